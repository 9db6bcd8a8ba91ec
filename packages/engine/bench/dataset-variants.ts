/**
 * Harder copies of a dataset in the MVTec layout, to see how defaults generalise beyond the two dev sets: `grey`
 * (colour removed) and `rotated` (every image, test ones and masks included, turned by its own random angle, so that
 * placement and rotation vary as on a conveyor without fixtures). Score them with `kensa bench`.
 * Usage: node --import tsx packages/engine/bench/dataset-variants.ts DATASET_DIR grey|rotated OUT_DIR
 */
import { mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import sharp from 'sharp';
import { Random } from '../src/kernels/random.ts';

const [source, variant, target] = process.argv.slice(2);
if (!source || !target || (variant !== 'grey' && variant !== 'rotated')) {
  console.error('usage: dataset-variants.ts DATASET_DIR grey|rotated OUT_DIR');
  process.exit(2);
}

async function imagesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? imagesUnder(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))));
  return nested.flat().filter((f) => /\.(png|jpe?g|bmp|tiff?|webp)$/i.test(f)).sort();
}

const random = new Random(12345);
const images = (await imagesUnder(join(source, 'train'))).concat(await imagesUnder(join(source, 'test')));
for (const file of images) {
  const path = relative(source, file); // train/good/x.png, test/<kind>/x.png
  const kind = path.split('/')[1];
  const mask = join(source, 'ground_truth', kind, `${basename(file).replace(/\.\w+$/, '')}_mask.png`);
  const out = join(target, path);
  const maskOut = join(target, 'ground_truth', kind, basename(mask));
  await mkdir(dirname(out), { recursive: true });
  if (existsSync(mask)) await mkdir(dirname(maskOut), { recursive: true });
  if (variant === 'grey') {
    await sharp(file).grayscale().toFile(out);
    if (existsSync(mask)) await sharp(mask).toFile(maskOut);
  } else {
    const angle = Math.floor(random.next() * 360);
    // What the turn uncovers takes the colour of the image's corner (its background, in product photos).
    const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    await sharp(file).rotate(angle, { background: { r: data[0], g: data[1], b: data[2] } }).toFile(out);
    if (existsSync(mask)) await sharp(mask).rotate(angle, { background: { r: 0, g: 0, b: 0 } }).toFile(maskOut);
  }
}
console.log(`${images.length} images → ${target}`);
