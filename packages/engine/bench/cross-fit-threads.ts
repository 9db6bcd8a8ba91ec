/**
 * Cross-fitting on one thread against two: trains ALGORITHM (defaults) on the first N training images of a set in a child
 * process per thread count, and prints each one's wall and processor seconds, peak resident set and model digest. The
 * digests must be equal (the same models either way); the wall times are compared within one run.
 *
 *   node --import tsx packages/engine/bench/cross-fit-threads.ts DATASET_DIR [ALGORITHM] [N]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { benchSplit, loadMvtecDataset, serializeModel, trainModel } from '../src/index.ts';

const [root, algorithm = 'PS', countArg, threadsArg] = process.argv.slice(2);
if (!root) throw new Error('usage: cross-fit-threads.ts DATASET_DIR [ALGORITHM] [N]');
if (threadsArg === undefined) {
  const runs = [1, 2].map((threads) => JSON.parse(execFileSync(process.execPath, [
    ...process.execArgv, fileURLToPath(import.meta.url), root, algorithm, countArg ?? 'all', String(threads),
  ], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').at(-1)!) as Record<string, number | string>);
  for (const run of runs) console.log(JSON.stringify(run));
  const [one, two] = runs;
  console.log(`wall ${(Number(two.train_seconds) / Number(one.train_seconds)).toFixed(2)}× of one thread's, processor ${(Number(two.cpu_seconds) / Number(one.cpu_seconds)).toFixed(2)}×, peak RSS ${one.peak_rss_mb} → ${two.peak_rss_mb} MB, same model: ${one.sha256 === two.sha256}`);
} else {
  const dataset = await loadMvtecDataset(root);
  const count = countArg === 'all' ? dataset.train.length : Number(countArg);
  const { images } = await benchSplit({ ...dataset, train: dataset.train.slice(0, count) }, algorithm);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const model = await trainModel(algorithm, images, {}, { threads: Number(threadsArg) });
  const cpu = process.cpuUsage(cpuStarted);
  console.log(JSON.stringify({
    dataset: dataset.name, algorithm, images: images.length, threads: Number(threadsArg), train_seconds: +((performance.now() - started) / 1000).toFixed(2),
    cpu_seconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    sha256: createHash('sha256').update(serializeModel(model)).digest('hex').slice(0, 16),
  }));
}
