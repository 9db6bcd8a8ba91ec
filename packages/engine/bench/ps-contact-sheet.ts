/**
 * A picture of what PS sees on a set: trains PS on the quick subset of `ps-quick.ts` (the model cached in /tmp), then
 * writes one PNG with a row per test image (the first N of each kind): the image, its defect mask, and its calibrated
 * map in the colours users see (`renderHeatmap`: the threshold mid-scale), with its score and verdict.
 *
 *   node --import tsx packages/engine/bench/ps-contact-sheet.ts DATASET_DIR OUT.png [N=3] [--retrain]
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import sharp, { type OverlayOptions } from 'sharp';
import { benchSplit, decodeForModel, deserializeModel, loadMvtecDataset, modelWorkingSize, predictRaster, renderHeatmap, serializeModel, trainModel } from '../src/index.ts';
import { quickSubset } from './quick-subset.ts';

const args = process.argv.slice(2);
const retrain = args.includes('--retrain');
const [root, out, perKindArg] = args.filter((a) => a !== '--retrain');
if (!root || !out) throw new Error('usage: ps-contact-sheet.ts DATASET_DIR OUT.png [N] [--retrain]');
const perKind = Number(perKindArg ?? 3);
const dataset = quickSubset(await loadMvtecDataset(root), 60, 80, 0);
const cache = `/tmp/ps-contact-sheet-${dataset.name}.model`;
let model;
if (existsSync(cache) && !retrain) model = deserializeModel(await readFile(cache));
else {
  model = await trainModel('PS', (await benchSplit(dataset, 'PS')).images, {});
  await writeFile(cache, serializeModel(model));
}
console.log(`threshold ${model.threshold.toFixed(3)}, chosen ${JSON.stringify(Object.fromEntries(Object.entries(model.autoTuned).map(([k, v]) => [k, v.chosen])))}`);

const rowHeight = 160, gap = 4, labelWidth = 260;
const layers: OverlayOptions[] = [];
let top = 0, width = 0;
for (const kind of [...new Set(dataset.test.map((t) => t.defect ?? 'good'))]) {
  for (const item of dataset.test.filter((t) => (t.defect ?? 'good') === kind).slice(0, perKind)) {
    const bytes = await readFile(item.path);
    const decoded = await decodeForModel(bytes, modelWorkingSize(model));
    const prediction = predictRaster(model, decoded.raster, decoded.info);
    const map = prediction.calibratedMap;
    const w = Math.round((rowHeight * map.width) / map.height);
    const image = await sharp(bytes).resize(w, rowHeight, { fit: 'fill' }).removeAlpha().png().toBuffer();
    const mask = item.maskPath
      ? await sharp(item.maskPath).resize(w, rowHeight, { fit: 'fill' }).png().toBuffer()
      : await sharp({ create: { width: w, height: rowHeight, channels: 3, background: '#222' } }).png().toBuffer();
    const heat = await sharp(await renderHeatmap(map, model.threshold)).resize(w, rowHeight, { fit: 'fill' }).png().toBuffer();
    const label = Buffer.from(`<svg width="${labelWidth}" height="24"><text x="4" y="18" font-size="16" fill="yellow">${kind} ${prediction.score.toFixed(2)} ${prediction.label}</text></svg>`);
    layers.push({ input: image, top, left: 0 }, { input: mask, top, left: w + gap }, { input: heat, top, left: 2 * (w + gap) }, { input: label, top, left: 3 * (w + gap) });
    width = Math.max(width, 3 * (w + gap) + labelWidth);
    top += rowHeight + gap;
  }
}
await sharp({ create: { width, height: top, channels: 3, background: '#000' } }).composite(layers).png().toFile(out);
console.log(`wrote ${out}`);
