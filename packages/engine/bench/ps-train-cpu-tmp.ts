// Trains PS with the engine's defaults on a dataset's train/good and prints wall seconds, CPU seconds and peak RSS.
import { readFile } from 'node:fs/promises';
const engine = await import(process.env.ENGINE_INDEX!);
const dataset = await engine.loadMvtecDataset(process.argv[2]);
const images = await Promise.all(dataset.train.map(async (t: { path: string }) => ({ bytes: await readFile(t.path), good: true })));
const cpu0 = process.cpuUsage(), t0 = performance.now();
const model = await engine.trainModel('PS', images, {});
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ dataset: dataset.name, images: images.length, wall_s: +((performance.now() - t0) / 1000).toFixed(1), cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(1), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), auto: Object.keys(model.autoTuned) }));
