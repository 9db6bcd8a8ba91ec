import { readFile } from 'node:fs/promises';
import { ALGORITHMS, loadMvtecDataset, trainModel, decodeForModel, predictRaster, type AlgorithmDefinition, type ModelState } from '../src/index.ts';
import { createPatchSample, DEFAULT_PS_CONFIG } from '../src/algorithms/ps/index.ts';
import { Random } from '../src/kernels/random.ts';
const [root, cfg, calib] = process.argv.slice(2);
ALGORITHMS.push(createPatchSample({ ...DEFAULT_PS_CONFIG, ...JSON.parse(cfg ?? '{}') }, 'PS:d') as unknown as AlgorithmDefinition<ModelState>);
const ds = await loadMvtecDataset(root);
const r = new Random(0);
const train = r.shuffle([...ds.train]).slice(0, 60);
const images = await Promise.all(train.map(async (t) => ({ bytes: await readFile(t.path), good: true })));
const t0 = performance.now(); const model = await trainModel('PS:d', images, {}, { calibration: (calib as any) ?? undefined });
console.log("train s", ((performance.now()-t0)/1000).toFixed(1), "auto", JSON.stringify(model.autoTuned), 'threshold', model.threshold.toFixed(3), 'cal', model.calibration.mode, JSON.stringify(model.calibration.borderLevels?.map(v=>+v.toFixed(3))));
const good = r.shuffle(ds.test.filter((t) => !t.defect)).slice(0, 25);
const bad = r.shuffle(ds.test.filter((t) => t.defect)).slice(0, 25);
for (const t of [...good, ...bad]) {
  const d = await decodeForModel(await readFile(t.path), 256);
  const p = predictRaster(model, d.raster, d.info);
  const m = p.calibratedMap; let bi = 0; for (let i = 0; i < m.data.length; i++) if (m.data[i] > m.data[bi]) bi = i;
  const x = bi % m.width, y = Math.floor(bi / m.width);
  const border = Math.min(x, y, m.width - 1 - x, m.height - 1 - y);
  console.log((t.defect ?? 'good').padEnd(10), p.score.toFixed(3), `max at ${x},${y} of ${m.width}x${m.height} border ${border}`, t.path.split('/').pop());
}
