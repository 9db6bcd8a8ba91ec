import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';
import { verdictOf } from '../verdict.ts';

const safeName = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');

export const itemCommand: CommandSpec = {
  name: 'item',
  summary: "Show an item's verdict and detected boxes; --open writes the overlay PNGs",
  usage: 'kensa item ID [--open] [--out DIR] [--json]',
  examples: [
    'kensa item anomaly-3',
    'kensa item anomaly-3 --open --out /tmp   # writes /tmp/anomaly-3-<image>.png with the defects boxed',
    'kensa item anomaly-3 --json',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: [...CONNECTION_FLAGS, 'out'], boolean: ['json', 'open'] });
    if (positional.length !== 1) throw new UsageError('item needs exactly one item id');
    const { sdk, remember } = await connect(flags);
    const detail = await sdk.getItem(positional[0]);
    await remember();
    const verdict = verdictOf(detail);
    const written: string[] = [];
    if (flags.open) {
      const dir = (flags.out as string | undefined) ?? '.';
      await mkdir(dir, { recursive: true });
      for (const image of detail.images) {
        const path = join(dir, `${safeName(detail.item_id)}-${safeName(String(image.image_id))}.png`);
        await writeFile(path, await sdk.downloadFile(image.url));
        written.push(path);
      }
    }
    if (flags.json) {
      printJson({ ...verdict, status: detail.status, is_training_data: detail.is_training_data, good: detail.good, overlays: written, detail });
      return 0;
    }
    const kind = detail.is_training_data ? `training (${detail.good === true ? 'good' : detail.good === false ? 'defect' : 'unlabelled'})` : 'prediction';
    console.log(`${detail.item_id}: ${kind}, ${detail.status}`);
    console.log(verdict.verdict ? `Verdict ${verdict.verdict}, ${verdict.detected_objects ?? 0} defect(s)${verdict.score === null ? '' : `, score ${verdict.score.toFixed(3)}`} (model ${verdict.model_id})` : 'Not predicted yet');
    for (const image of verdict.images) {
      const source = detail.images.find((i) => i.image_id === image.image_id);
      console.log(`  image ${image.image_id} ${image.file_name} ${source ? `${source.width}x${source.height}` : ''} ${image.verdict ?? ''}${image.score === null ? '' : ` score ${image.score.toFixed(3)}`}`);
      for (const box of image.boxes) console.log(`    box x ${box.x_min}–${box.x_max}, y ${box.y_min}–${box.y_max}${typeof box.score === 'number' ? `, score ${box.score.toFixed(3)}` : ''}`);
    }
    for (const path of written) console.log(`Wrote ${path}`);
    return 0;
  },
};
