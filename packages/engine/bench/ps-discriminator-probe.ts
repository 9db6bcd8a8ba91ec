// The synthetic-defect discriminator alone: trained on 40 good images of a set (levels 0 and 1), its plane measured against the test masks (pixel AUROC) and, pooled over about a patch, by its largest value per image (image AUROC), beside the k-means codebook residual.
//   node --import tsx packages/engine/bench/ps-discriminator-probe.ts DATASET_DIR [none|robust] ['{"hidden":24}']
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeImage, loadMvtecDataset } from '../src/index.ts';
import { lightnessPyramid } from '../src/features/filter-bank.ts';
import { DEFAULT_DISCRIMINATOR, discriminatorPlane, fitDiscriminator } from '../src/features/discriminator.ts';
import { fitLearnedFilters, learnedFilterPlanes } from '../src/features/learned-filters.ts';
import { auroc } from '../src/metrics/index.ts';
import { Random } from '../src/kernels/random.ts';

const [root, normalise = 'none', overrides = '{}'] = process.argv.slice(2);
const options = { ...DEFAULT_DISCRIMINATOR, ...JSON.parse(overrides) };
const dataset = await loadMvtecDataset(root);
const random = new Random(0);
const load = async (path: string) => (await decodeImage(new Uint8Array(await readFile(path)), { maxSide: 512 })).raster;
const train = random.sample(dataset.train.length, 40).map((i) => dataset.train[i]);
const pyramids = [];
for (const t of train) pyramids.push(lightnessPyramid(await load(t.path), { normalise: normalise as 'none' }, 2));
const test = random.shuffle([...dataset.test]).slice(0, 60);
for (const level of [0, 1]) {
  const started = process.cpuUsage();
  const d = fitDiscriminator(pyramids.map((p) => p[level]), level, options, new Random(level));
  const cpu = process.cpuUsage(started);
  const lf = fitLearnedFilters(pyramids.map((p) => p[level]), level, { count: 32, size: 7, planes: 'residual', samples: 20000, iterations: 10, threshold: 0.25 }, new Random(9));
  const pixScores: number[] = [], pixLabels: number[] = [], lfScores: number[] = [];
  const imgScores: number[] = [], imgLabels: number[] = [], lfImg: number[] = [];
  let inferMs = 0;
  for (const t of test) {
    const pyramid = lightnessPyramid(await load(t.path), { normalise: normalise as 'none' }, 2);
    const t0 = performance.now();
    const plane = discriminatorPlane(pyramid[level], d);
    inferMs += performance.now() - t0;
    const lfPlane = learnedFilterPlanes(pyramid[level], lf);
    const { width, height } = plane;
    let mask: Uint8Array | null = null;
    if (t.maskPath) mask = new Uint8Array(await sharp(t.maskPath).greyscale().resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer());
    // Pooled over 4×4 plane pixels (about a patch), max per image.
    let best = -Infinity, lfBest = -Infinity;
    for (let y = 0; y + 4 <= height; y += 2) for (let x = 0; x + 4 <= width; x += 2) {
      let s = 0, l = 0;
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) { s += plane.planes[0][(y + dy) * width + x + dx]; l += lfPlane.planes[0][(y + dy) * width + x + dx]; }
      best = Math.max(best, s); lfBest = Math.max(lfBest, l);
    }
    imgScores.push(best); lfImg.push(lfBest); imgLabels.push(t.defect ? 1 : 0);
    for (let i = 0; i < width * height; i += 3) {
      pixScores.push(plane.planes[0][i]); lfScores.push(lfPlane.planes[0][i]); pixLabels.push(mask ? (mask[i] > 127 ? 1 : 0) : 0);
    }
  }
  console.log(`level ${level}: fit ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s, held-out acc ${d.heldOutAccuracy.toFixed(3)}, infer ${(inferMs / test.length).toFixed(1)} ms/img; `
    + `disc pix ${auroc(pixScores, pixLabels).toFixed(3)} img ${auroc(imgScores, imgLabels).toFixed(3)}; lf-residual pix ${auroc(lfScores, pixLabels).toFixed(3)} img ${auroc(lfImg, imgLabels).toFixed(3)}`);
}
