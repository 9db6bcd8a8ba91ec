import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { existsOnDisk, expandPaths } from '../files.ts';
import { createProgress, parseSeconds, printJson, printTable } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';
import { verdictOf } from '../verdict.ts';
import { parseBatchSize, uploadInBatches } from './upload.ts';

/** Exit code when `--fail-on-ng` is given and any item is NG, so a line script can stop the belt. */
export const EXIT_NG = 3;

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Predict items: existing item ids, or image files / folders uploaded first',
  usage: 'kensa predict ITEM_ID…|DIR|FILES… [--model ID] [--target ID|NAME] [--wait] [--timeout SECONDS] [--fail-on-ng] [--batch N] [--json]',
  examples: [
    'kensa predict ./today --wait                 # upload the folder for prediction, predict, show verdicts',
    'kensa predict anomaly-3 normal-7 --model 2   # items uploaded earlier; returns at once',
    'kensa predict part-0042.png --wait --fail-on-ng --json   # exit code 3 when NG',
    'kensa predict ./line-b/today --target line-b --wait      # uploaded to, and predicted by the active model of, a target',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, {
      string: [...CONNECTION_FLAGS, 'model', 'timeout', 'batch', 'target'],
      boolean: ['json', 'wait', 'fail-on-ng'],
    });
    if (positional.length === 0) throw new UsageError('predict needs item ids, image files or a folder');
    if (flags['fail-on-ng'] && !flags.wait) throw new UsageError('--fail-on-ng needs --wait (the verdict is known only then)');
    const timeoutMs = parseSeconds(flags.timeout, 600);
    const batchSize = parseBatchSize(flags.batch);
    const onDisk: string[] = [];
    const itemIds: string[] = [];
    for (const arg of positional) (await existsOnDisk(arg) ? onDisk : itemIds).push(arg);
    const { sdk, remember } = await connect(flags);
    const target = flags.target as string | undefined;
    if (onDisk.length) itemIds.push(...(await uploadInBatches(sdk, await expandPaths(onDisk), undefined, { batchSize, json: flags.json === true, target })));
    const modelId = typeof flags.model === 'string' ? (/^\d+$/.test(flags.model) ? Number(flags.model) : flags.model) : undefined;
    const served = await sdk.serve(itemIds, modelId, { target });
    await remember();
    if (!flags.wait) {
      if (flags.json) printJson(served);
      else console.log(`Queued ${served.item_ids.length} item(s) for model ${served.model_version}; \`kensa item ID\` shows each result`);
      return 0;
    }
    const progress = createProgress('Predicting', { json: flags.json === true });
    const details = await sdk.waitForItems(served.item_ids, { timeoutMs, onProgress: (done, total) => progress.update(done, total) });
    progress.finish();
    const verdicts = details.map(verdictOf);
    if (flags.json) printJson({ model_version: served.model_version, items: verdicts });
    else {
      printTable([
        ['ITEM', 'VERDICT', 'DEFECTS', 'SCORE'],
        ...verdicts.map((v) => [v.item_id, v.error !== null ? 'ERROR' : v.verdict, v.detected_objects, v.score === null ? null : v.score.toFixed(3)]),
      ]);
      for (const v of verdicts) if (v.error !== null) console.error(`${v.item_id}: ${v.error}`);
      const ng = verdicts.filter((v) => v.verdict === 'NG').length;
      const ok = verdicts.filter((v) => v.verdict === 'OK').length;
      const failed = verdicts.length - ng - ok;
      console.log(`${ok} OK, ${ng} NG${failed ? `, ${failed} failed` : ''} (model ${served.model_version})`);
    }
    // A failed prediction is work that failed (exit 1), whatever the others found.
    if (verdicts.some((v) => v.error !== null)) return 1;
    return flags['fail-on-ng'] && verdicts.some((v) => v.verdict === 'NG') ? EXIT_NG : 0;
  },
};
