/**
 * Why PS's pixel AUROC is what it is on a set: trains PS on the quick subset of `ps-quick.ts` (same seeded draw; the
 * model cached in /tmp), then compares the test maps several ways, per defect kind: the pooled pixel AUROC of the
 * calibrated maps (as the bench takes it) and of the raw ones (no calibration: global calibration ranks the same), the
 * mean AUROC inside each defective image (localisation alone, no comparison across images), the share of defect
 * pixels near the image border, and where the defect pixels' scores sit against good images' pixels.
 *
 *   node --import tsx packages/engine/bench/ps-pixel-diagnosis.ts [--train 60] [--test 80] [--seed 0] [--retrain]
 *     [--config JSON] [--param name=value …] DATASET_DIR
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import {
  ALGORITHMS, aurocOfSets, decodeForModel, deserializeModel, fitWithin, getAlgorithm, loadMvtecDataset, modelWorkingSize, PIXEL_METRICS_SIDE,
  resizeMap, serializeModel, trainModel, type AlgorithmDefinition, type FloatMap, type ModelState, type MvtecDataset,
} from '../src/index.ts';
import { applyCalibration } from '../src/calibration/calibrate.ts';
import { createPatchSample, DEFAULT_PS_CONFIG, type PsConfig } from '../src/algorithms/ps/index.ts';
import { quickSubset } from './quick-subset.ts';

const args = process.argv.slice(2);
let trainCount = 60, testCount = 80, seed = 0, retrain = false;
let config: Partial<PsConfig> = {};
const params: Record<string, unknown> = {};
let root = '';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--train') trainCount = Number(args[++i]);
  else if (args[i] === '--test') testCount = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else if (args[i] === '--retrain') retrain = true;
  else if (args[i] === '--config') config = JSON.parse(args[++i]) as Partial<PsConfig>;
  else if (args[i] === '--param') {
    const [name, ...rest] = args[++i].split('=');
    params[name] = rest.join('=');
  } else root = args[i];
}

const subset = (dataset: MvtecDataset) => quickSubset(dataset, trainCount, testCount, seed);

const id = 'PS:diagnosis';
ALGORITHMS.push(createPatchSample({ ...DEFAULT_PS_CONFIG, ...config }, id) as unknown as AlgorithmDefinition<ModelState>);
const dataset = subset(await loadMvtecDataset(root));
const file = `/tmp/kensa-pixel-diagnosis-${dataset.name}-${trainCount}-${seed}-${createHash('sha256').update(JSON.stringify([config, params])).digest('hex').slice(0, 16)}.kensa`;
let model = !retrain && existsSync(file) ? deserializeModel(await readFile(file)) : undefined;
if (!model) {
  const images = await Promise.all(dataset.train.map(async (t) => ({ bytes: await readFile(t.path), good: true as const })));
  model = await trainModel(id, images, params);
  await writeFile(file, serializeModel(model));
}
console.log(`calibration ${model.calibration.mode} level ${model.calibration.level.toFixed(3)} median ${model.calibration.median?.toFixed(3)} bands ${model.calibration.borderLevels?.map((v) => v.toFixed(2)).join(" ") ?? "-"} medians ${model.calibration.borderMedians?.map((v) => v.toFixed(2)).join(" ") ?? "-"}`);
console.log(`choices ${JSON.stringify(Object.fromEntries(Object.entries(model.autoTuned).map(([k, v]) => [k, v.chosen])))}`);

interface Scored { kind: string; raw: FloatMap; calibrated: FloatMap; mask: Float32Array; border: Float32Array; rawFull: FloatMap }
const algorithm = getAlgorithm(model.algorithm);
const scored: Scored[] = [];
for (const image of dataset.test) {
  if (image.defect !== null && !image.maskPath) continue;
  const decoded = await decodeForModel(await readFile(image.path), modelWorkingSize(model));
  const rawFull = resizeMap(algorithm.anomalyMap(model.state, decoded.raster, model.params), decoded.raster.width, decoded.raster.height);
  const calibratedFull = applyCalibration(rawFull, model.calibration);
  const size = fitWithin(decoded.raster.width, decoded.raster.height, PIXEL_METRICS_SIDE);
  const mask = new Float32Array(size.width * size.height);
  if (image.maskPath) {
    const { data } = await sharp(image.maskPath).greyscale().resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < mask.length; i++) mask[i] = data[i] > 127 ? 1 : 0;
  }
  // Distance to the border in working-size pixels.
  const border = new Float32Array(size.width * size.height);
  const s = decoded.raster.width / size.width;
  for (let y = 0; y < size.height; y++) for (let x = 0; x < size.width; x++) border[y * size.width + x] = Math.min(x, y, size.width - 1 - x, size.height - 1 - y) * s;
  scored.push({ kind: image.defect ?? 'good', raw: resizeMap(rawFull, size.width, size.height), calibrated: resizeMap(calibratedFull, size.width, size.height), mask, border, rawFull });
}

const kinds = [...new Set(scored.map((s) => s.kind))].filter((k) => k !== 'good').sort();
type Pick = (s: Scored) => FloatMap;
/** Pooled pixel AUROC of the images listed (their defect pixels against every good pixel of them), optionally within a border filter. */
function pooled(images: Scored[], pick: Pick, keep: (s: Scored, i: number) => boolean = () => true): number {
  const pos: number[] = [], neg: number[] = [];
  for (const s of images) {
    const m = pick(s).data;
    for (let i = 0; i < m.length; i++) if (keep(s, i)) (s.mask[i] > 0.5 ? pos : neg).push(m[i]);
  }
  return aurocOfSets(Float64Array.from(pos), Float64Array.from(neg));
}
function withinImage(images: Scored[], pick: Pick): number {
  const values = images.map((s) => pooled([s], pick)).filter((v) => !Number.isNaN(v));
  return values.reduce((a, b) => a + b, 0) / values.length;
}
const good = scored.filter((s) => s.kind === 'good');
const f3 = (v: number) => (Number.isNaN(v) ? '  -  ' : v.toFixed(3));
const positives = (list: Scored[]) => list.reduce((n, s) => n + s.mask.reduce((a, b) => a + b, 0), 0);
const allPositives = positives(scored);
const quantileOf = (values: number[], q: number) => { const v = values.slice().sort((a, b) => a - b); return v[Math.min(v.length - 1, Math.floor(q * v.length))]; };
const goodValues = good.flatMap((s) => Array.from(s.calibrated.data));
console.log(`good pixels' calibrated quantiles 50/90/99/99.9: ${[0.5, 0.9, 0.99, 0.999].map((q) => f3(quantileOf(goodValues, q))).join(' ')}`);
/** Each map divided by its own median: what a comparison across images at a common scale would give. */
const medianScaled: Pick = (s) => { const med = quantileOf(Array.from(s.calibrated.data), 0.5) || 1; return { ...s.calibrated, data: s.calibrated.data.map((v) => v / med) }; };
console.log('kind        imgs share-of-pos  pooled-cal pooled-raw within-img  median-scaled  pos<8px  pooled-cal(>8px) defect-px median/p90 (cal)');
for (const kind of [...kinds, 'ALL']) {
  const list = kind === 'ALL' ? scored.filter((s) => s.kind !== 'good') : scored.filter((s) => s.kind === kind);
  const withGood = [...list, ...good];
  const pos = positives(list);
  const nearBorder = list.reduce((n, s) => n + s.mask.reduce((a, m, i) => a + (m > 0.5 && s.border[i] < 8 ? 1 : 0), 0), 0);
  const defectValues = list.flatMap((s) => Array.from(s.calibrated.data).filter((_, i) => s.mask[i] > 0.5));
  console.log(`${kind.padEnd(10)} ${String(list.length).padStart(5)} ${f3(pos / allPositives).padStart(12)}  ${f3(pooled(withGood, (s) => s.calibrated)).padStart(10)} ${f3(pooled(withGood, (s) => s.raw)).padStart(10)} ${f3(withinImage(list, (s) => s.calibrated)).padStart(10)} ${f3(pooled(withGood, medianScaled)).padStart(14)} ${f3(nearBorder / pos).padStart(8)} ${f3(pooled(withGood, (s) => s.calibrated, (s, i) => s.border[i] >= 8)).padStart(16)}  ${f3(quantileOf(defectValues, 0.5))}/${f3(quantileOf(defectValues, 0.9))}`);
}

// Image AUROC by each map's maximum (the engine's image score is the calibrated map's maximum).
const maxOf = (m: FloatMap) => m.data.reduce((a, b) => Math.max(a, b), 0);
const imageAuroc = (pick: Pick, list: Scored[]) => aurocOfSets(Float64Array.from(list.map((s) => maxOf(pick(s)))), Float64Array.from(good.map((s) => maxOf(pick(s)))));
console.log(`image AUROC by map maximum: calibrated ${f3(imageAuroc((s) => s.calibrated, scored.filter((s) => s.kind !== 'good')))} raw ${f3(imageAuroc((s) => s.raw, scored.filter((s) => s.kind !== 'good')))}; by kind (cal/raw) ${kinds.map((k) => `${k} ${f3(imageAuroc((s) => s.calibrated, scored.filter((s) => s.kind === k)))}/${f3(imageAuroc((s) => s.raw, scored.filter((s) => s.kind === k)))}`).join(', ')}`);
// Good images: does the raw level follow the border distance or the image's size?
for (const s of good) {
  const bands = [0, 4, 16, 32, 64, 1e9];
  const parts = bands.slice(0, -1).map((lo, b) => {
    const values = Array.from(s.raw.data).filter((_, i) => s.border[i] >= lo && s.border[i] < bands[b + 1]);
    return values.length ? `${f3(quantileOf(values, 0.5))}/${f3(quantileOf(values, 0.99))}` : '   -   ';
  });
  console.log(`good ${s.raw.width}x${s.raw.height} (working ${Math.round(s.raw.width * (s.border[1] || 1))}) raw median/p99 by border distance [0,4) [4,16) [16,32) [32,64) [64,∞): ${parts.join('  ')}`);
}

// Band calibrations refitted on the good test images (optimistic for both alike): the engine's (raw ÷ the band's 99.9th
// percentile) against a two-point one (the band's median and 99.9th percentile sent to the global ones).
{
  const BANDS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
  const bandOf = (x: number, y: number, w: number, h: number) => { const d = Math.min(x, y, w - 1 - x, h - 1 - y); let b = 0; while (b < BANDS.length && d >= BANDS[b]) b++; return b; };
  const values: number[][] = BANDS.map(() => []).concat([[]]);
  const all: number[] = [];
  for (const s of good) { const m = s.rawFull; for (let y = 0, i = 0; y < m.height; y++) for (let x = 0; x < m.width; x++, i++) { values[bandOf(x, y, m.width, m.height)].push(m.data[i]); all.push(m.data[i]); } }
  const G = quantileOf(all, 0.999), gm = quantileOf(all, 0.5);
  const top = values.map((v) => (v.length > 200 ? quantileOf(v, 0.999) : G)), mid = values.map((v) => (v.length > 200 ? quantileOf(v, 0.5) : gm));
  console.log(`refit bands median ${mid.map(f3).join(' ')} | 99.9 ${top.map(f3).join(' ')}`);
  const transform = (f: (v: number, b: number) => number): Pick => (s) => {
    const m = s.rawFull, out = new Float32Array(m.data.length);
    for (let y = 0, i = 0; y < m.height; y++) for (let x = 0; x < m.width; x++, i++) out[i] = f(m.data[i], bandOf(x, y, m.width, m.height));
    return resizeMap({ width: m.width, height: m.height, data: out }, s.raw.width, s.raw.height);
  };
  const variants: [string, Pick][] = [
    ['border (raw / band 99.9)', transform((v, b) => v / top[b])],
    ['two-point (median, 99.9)', transform((v, b) => Math.max(0, (gm + ((v - mid[b]) * (G - gm)) / (top[b] - mid[b])) / G))],
    ['border from 4 px only', transform((v, b) => v / (b < 4 ? top[b] : G))],
  ];
  const defective = scored.filter((s) => s.kind !== 'good');
  for (const [name, pick] of variants) {
    const cache = new Map<Scored, FloatMap>();
    const cached: Pick = (s) => { let m = cache.get(s); if (!m) { m = pick(s); cache.set(s, m); } return m; };
    console.log(`${name.padEnd(28)} pixel ${f3(pooled(scored, cached))} image ${f3(imageAuroc(cached, defective))} | ${kinds.map((k) => `${k} ${f3(pooled([...scored.filter((s) => s.kind === k), ...good], cached))}/${f3(imageAuroc(cached, scored.filter((s) => s.kind === k)))}`).join(', ')}`);
  }
}
