/**
 * Compares rules for the OK-only threshold (no NG images in training): each rule is computed from the
 * held-out (cross-fitted) OK scores of training or the final model's scores of its own training images, then
 * judged by F1 on the dataset's test set. "engine" is the rule trainModel uses (.632 of held-out and in-sample).
 * Usage: node --import tsx packages/engine/bench/threshold-rules.ts DATASET_DIR ALGORITHM[,ALGORITHM…]
 */
import { readFile } from 'node:fs/promises';
import { confusionAt, decodeForModel, loadMvtecDataset, modelWorkingSize, predictRaster, trainModel } from '../src/index.ts';
import { quantile } from '../src/calibration/quantile.ts';

const [root, algorithms = 'PS'] = process.argv.slice(2);
const dataset = await loadMvtecDataset(root);
const images = await Promise.all(dataset.train.map(async (t) => ({ bytes: await readFile(t.path), good: true as const })));
for (const id of algorithms.split(',')) {
  const model = await trainModel(id, images, {});
  const ok = model.evaluation.heldOutOkScores;
  const scores: number[] = [];
  const defective: boolean[] = [];
  for (const t of dataset.test) {
    const decoded = await decodeForModel(await readFile(t.path), modelWorkingSize(model));
    scores.push(predictRaster(model, decoded.raster, decoded.info).score);
    defective.push(t.defect !== null);
  }
  const inSample: number[] = [];
  for (const t of dataset.train) {
    const decoded = await decodeForModel(await readFile(t.path), modelWorkingSize(model));
    inSample.push(predictRaster(model, decoded.raster, decoded.info).score);
  }
  const med = quantile(ok, 0.5);
  const sigma = 1.4826 * quantile(ok.map((s) => Math.abs(s - med)), 0.5);
  const rules: Record<string, number> = {
    'max x1.02': Math.max(...ok) * 1.02,
    'q0.9': quantile(ok, 0.9),
    'median+3σ': med + 3 * sigma,
    'median+4σ': med + 4 * sigma,
    'median+5σ': med + 5 * sigma,
    'in-sample q0.9': quantile(inSample, 0.9),
    'engine': model.threshold,
  };
  const line = Object.entries(rules).map(([name, t]) => {
    const c = confusionAt(scores, defective, t);
    return `${name}: t=${t.toFixed(3)} F1=${c.f1.toFixed(3)} (fp ${c.fp}, fn ${c.fn})`;
  });
  console.log(`${dataset.name} ${id}: ok=${ok.map((s) => s.toFixed(2)).join(' ')}\n  ${line.join('\n  ')}`);
}
