import type { InspectResult } from '@kensa/sdk';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { expandPaths } from '../files.ts';
import { printJson, printTable } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';
import { EXIT_NG } from './predict.ts';

const verdict = (r: InspectResult) => (r.good ? 'OK' : 'NG');

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary: 'Inspect images at once, for a production line: verdicts in the answer, nothing stored',
  usage: 'kensa inspect FILES…|DIR [--model ID] [--target ID|NAME] [--store] [--fail-on-ng] [--batch N] [--json]',
  examples: [
    'kensa inspect part-0042.png                       # verdict, defects and score of each image',
    'kensa inspect camera/latest.jpg --fail-on-ng --json || stop_the_belt   # exit code 3 on NG',
    'kensa inspect ./shift-3 --model 4 --store         # also keep them as predicted items',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: [...CONNECTION_FLAGS, 'model', 'batch', 'target'], boolean: ['json', 'store', 'fail-on-ng'] });
    if (positional.length === 0) throw new UsageError('inspect needs image files or a folder');
    const batchSize = flags.batch === undefined ? 20 : Number(flags.batch);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch must be a positive integer');
    const files = await expandPaths(positional);
    const { sdk, remember } = await connect(flags);
    const modelId = typeof flags.model === 'string' ? (/^\d+$/.test(flags.model) ? Number(flags.model) : flags.model) : undefined;
    const results: InspectResult[] = [];
    let model: { model_id: number | string; model_version: string } | null = null;
    for (let start = 0; start < files.length; start += batchSize) {
      const answer = await sdk.inspect(files.slice(start, start + batchSize), { modelId, store: flags.store === true, target: flags.target as string | undefined });
      results.push(...answer.results);
      model = { model_id: answer.model_id, model_version: answer.model_version };
    }
    await remember();
    if (flags.json) printJson({ ...model, results });
    else {
      printTable([
        ['FILE', 'VERDICT', 'DEFECTS', 'SCORE'],
        ...results.map((r) => [r.file_name, verdict(r), r.detected_objects, r.score.toFixed(3)]),
      ]);
      for (const r of results) {
        for (const box of r.boxes) console.log(`  ${r.file_name}: box x ${box.x_min}–${box.x_max}, y ${box.y_min}–${box.y_max}, score ${box.score.toFixed(3)}`);
      }
      const ng = results.filter((r) => !r.good).length;
      console.log(`${results.length - ng} OK, ${ng} NG (model ${model?.model_id}, ${model?.model_version})`);
    }
    return flags['fail-on-ng'] && results.some((r) => !r.good) ? EXIT_NG : 0;
  },
};
