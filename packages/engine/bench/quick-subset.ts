import type { MvtecDataset } from '../src/index.ts';
import { Random } from '../src/kernels/random.ts';

/**
 * The quick benches' seeded subset of a set: `train` training images; `test` test images, good and defective in the full
 * set's proportion. Shared so that every quick script looks at the same images for the same seed.
 */
export function quickSubset(dataset: MvtecDataset, trainCount: number, testCount: number, seed: number): MvtecDataset {
  const random = new Random(seed);
  const train = random.shuffle([...dataset.train]).slice(0, trainCount);
  const good = dataset.test.filter((t) => t.defect === null);
  const bad = dataset.test.filter((t) => t.defect !== null);
  const goodCount = Math.min(good.length, Math.max(1, Math.round((testCount * good.length) / dataset.test.length)));
  const test = [...random.shuffle([...good]).slice(0, goodCount), ...random.shuffle([...bad]).slice(0, testCount - goodCount)];
  return { name: dataset.name, train, test };
}
