import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson, printTable } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';

const percent = (value: number | null | undefined) => (value === null || value === undefined ? null : `${(value * (value <= 1 ? 100 : 1)).toFixed(1)}%`);

export const modelsCommand: CommandSpec = {
  name: 'models',
  summary: 'List models (the active one is marked *), or delete some',
  usage: 'kensa models [--target ID|NAME] [--json]\n       kensa models delete ID… [--json]',
  examples: ['kensa models', 'kensa models --json', 'kensa models --target line-b   # one target\'s models', 'kensa models delete 3 4'],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: [...CONNECTION_FLAGS, 'target'], boolean: ['json'] });
    const { sdk, remember } = await connect(flags);
    if (positional[0] === 'delete') {
      const ids = positional.slice(1);
      if (ids.length === 0) throw new UsageError('models delete needs one or more model ids');
      const answer = await sdk.deleteModels(ids.map((id) => (/^\d+$/.test(id) ? Number(id) : id)));
      await remember();
      if (flags.json) printJson(answer);
      else console.log(`Deleted model(s) ${ids.join(', ')}`);
      return 0;
    }
    if (positional.length) throw new UsageError(`Unknown models action ${positional[0]}`);
    const models = await sdk.getModels({ target: flags.target as string | undefined });
    await remember();
    if (flags.json) {
      printJson(models);
      return 0;
    }
    if (models.length === 0) {
      console.log('No models yet: `kensa train --algorithm ID --wait` makes one.');
      return 0;
    }
    printTable([
      ['', 'ID', 'NAME', 'ALGORITHM', 'STATUS', 'OK/NG IMAGES', 'PRECISION', 'RECALL', 'CREATED', 'TARGET'],
      ...models.map((m) => [
        m.active ? '*' : '',
        m.model_id,
        m.name,
        m.algorithm_id,
        m.status === 'creating' && m.progress != null ? `creating ${Math.round(m.progress * 100)}%` : m.status,
        `${m.ok_img_count ?? '-'}/${m.ng_img_count ?? '-'}`,
        percent(m.stats?.precision?.computed ?? m.stats?.precision?.projected),
        percent(m.stats?.recall?.computed ?? m.stats?.recall?.projected),
        m.created_at,
        m.target_id ?? null,
      ]),
    ]);
    return 0;
  },
};
