import type { VisualInspectionSDK } from '@kensa/sdk';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { expandPaths } from '../files.ts';
import { createProgress, printJson } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';

/** Uploads files in batches with a progress bar; returns the item ids in upload order, without repeats. */
export async function uploadInBatches(
  sdk: VisualInspectionSDK,
  files: string[],
  isGood: boolean | undefined,
  options: { batchSize: number; itemId?: string; json?: boolean; target?: string },
): Promise<string[]> {
  const progress = createProgress('Uploading', options);
  const itemIds: string[] = [];
  progress.update(0, files.length);
  for (let start = 0; start < files.length; start += options.batchSize) {
    const batch = files.slice(start, start + options.batchSize);
    const answer = await sdk.upload(batch, isGood, { itemId: options.itemId, target: options.target });
    for (const id of answer.item_ids) if (!itemIds.includes(id)) itemIds.push(id);
    progress.update(start + batch.length, files.length);
  }
  progress.finish();
  return itemIds;
}

export function parseBatchSize(value: string | boolean | undefined): number {
  const size = value === undefined ? 20 : Number(value);
  if (!Number.isInteger(size) || size < 1) throw new UsageError('--batch must be a positive integer');
  return size;
}

export const uploadCommand: CommandSpec = {
  name: 'upload',
  summary: 'Upload images: good or defective for training, or for prediction',
  usage: 'kensa upload DIR|FILES… (--good | --defect | --predict) [--target ID|NAME] [--item-id ID] [--recursive] [--batch N] [--json]',
  examples: [
    'kensa upload ./cookies/train/good --good',
    'kensa upload scratch-1.jpg scratch-2.jpg --defect',
    'kensa upload ./today --predict --json',
    'kensa upload ./line-b/good --good --target line-b   # items of another inspection target',
    'kensa upload top.png bottom.png left.png --predict --item-id box-0042   # one item, several images',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, {
      string: [...CONNECTION_FLAGS, 'item-id', 'batch', 'target'],
      boolean: ['json', 'good', 'defect', 'predict', 'recursive'],
    });
    const kinds = (['good', 'defect', 'predict'] as const).filter((k) => flags[k] === true);
    if (kinds.length !== 1) throw new UsageError('Say what the images are for with exactly one of --good, --defect, --predict');
    if (positional.length === 0) throw new UsageError('upload needs a folder or files');
    const isGood = kinds[0] === 'predict' ? undefined : kinds[0] === 'good';
    const files = await expandPaths(positional, flags.recursive === true);
    const { sdk, remember } = await connect(flags);
    const itemIds = await uploadInBatches(sdk, files, isGood, {
      batchSize: parseBatchSize(flags.batch),
      itemId: flags['item-id'] as string | undefined,
      target: flags.target as string | undefined,
      json: flags.json === true,
    });
    await remember();
    if (flags.json) printJson({ item_ids: itemIds });
    else {
      const purpose = isGood === undefined ? 'for prediction' : `for training (${isGood ? 'good' : 'defect'})`;
      console.log(`Uploaded ${files.length} file(s) as ${itemIds.length} item(s) ${purpose}:`);
      for (const id of itemIds) console.log(`  ${id}`);
    }
    return 0;
  },
};
