import { ModelFailedError, type Model, type ParameterValues } from '@kensa/sdk';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { createProgress, parseSeconds, printJson } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';

/** `name=value` pairs (names or numeric parameter ids) into the SDK's values by name. */
export function parseParams(pairs: string[]): ParameterValues {
  const values: ParameterValues = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes name=value, not ${pair}`);
    values[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return values;
}

function describe(model: Model): string {
  const projected = model.stats?.precision?.projected;
  const extra = model.status === 'failed' && model.status_text ? ` (${model.status_text})` : '';
  return `Model ${model.model_id} "${model.name}" [${model.algorithm_id}] ${model.status}${extra}${projected != null ? `, projected precision ${projected}` : ''}`;
}

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: 'Train a model on the training items (or some of them)',
  usage: 'kensa train --algorithm ID [--name NAME] [--param name=value …] [--items ID,ID…] [--target ID|NAME] [--wait] [--timeout SECONDS] [--json]',
  examples: [
    'kensa train --algorithm PM --wait',
    'kensa train --algorithm PS --name cookies-v2 --param working_size=192 --param min_inspection_size=16,16 --wait',
    'kensa train --algorithm PM --param 8=128 --items normal-1,normal-2,normal-3 --json   # a parameter by its id',
    'kensa train --algorithm PM --target line-b --wait   # learns from, and becomes active in, that target',
  ],
  async run(argv) {
    const { positional, flags, repeated } = parseFlags(argv, {
      string: [...CONNECTION_FLAGS, 'algorithm', 'name', 'items', 'timeout', 'target'],
      boolean: ['json', 'wait'],
      repeat: ['param'],
    });
    if (positional.length) throw new UsageError(`train takes no arguments (got ${positional.join(' ')})`);
    const algorithm = flags.algorithm;
    if (typeof algorithm !== 'string' || !algorithm) throw new UsageError('train needs --algorithm ID (see GET /v1/algorithms)');
    const values = parseParams(repeated.param ?? []);
    const itemIds = typeof flags.items === 'string' ? flags.items.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const name = (flags.name as string | undefined) ?? `${algorithm}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
    const timeoutMs = parseSeconds(flags.timeout, 1800);
    const { sdk, remember } = await connect(flags);
    let model = await sdk.train(algorithm, name, values, itemIds, { target: flags.target as string | undefined });
    await remember();
    if (flags.wait) {
      const progress = createProgress(`Training ${model.name}`, { json: flags.json === true, percent: true });
      try {
        model = await sdk.waitForModel(model.model_id, {
          timeoutMs,
          onProgress: (m) => progress.update(m.progress ?? 0, 1, m.status === 'creating' ? m.status_text ?? '' : m.status),
        });
        progress.finish();
      } catch (error) {
        progress.finish();
        if (error instanceof ModelFailedError) {
          const failed = (await sdk.getModels()).find((m) => String(m.model_id) === String(model.model_id)) ?? model;
          if (flags.json) printJson(failed);
          else console.error(describe(failed));
          return 1;
        }
        throw error;
      }
    }
    if (flags.json) printJson(model);
    else console.log(describe(model));
    return 0;
  },
};
