import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { benchResultsIn, quickSubset, type DatasetImage, type MvtecDataset } from '@kensa/engine';
import { Random } from '../../engine/src/kernels/random.ts';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';
import { runKensa } from './run-kensa.ts';

/** `kensa bench` as the issues define it: figures per set and algorithm, mean and worst, progress on stderr, one JSON object last. */
const COOKIES = process.env.KENSA_COOKIES_DIR ?? sampleDataset('cookies');
const FIELDS = ['dataset', 'algorithm', 'image_auroc', 'pixel_auroc', 'aupro', 'f1', 'train_seconds', 'decode_ms_per_image', 'infer_ms_per_image',
  'infer_decode_ratio', 'peak_rss_mb', 'train_peak_rss_mb', 'train_cpu_seconds', 'cpu_seconds'];

const SIDE = 40;

/** A striped grey card with noise; a defect is a bright square whose mask is written beside it. */
async function card(random: Random, defect: { x: number; y: number; size: number } | null): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const inside = defect && x >= defect.x && x < defect.x + defect.size && y >= defect.y && y < defect.y + defect.size;
      pixels[y * SIDE + x] = inside ? 250 : 80 + ((x >> 2) % 2) * 60 + random.int(12);
    }
  }
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer();
}

async function mask(defect: { x: number; y: number; size: number }): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  for (let y = defect.y; y < defect.y + defect.size; y++) pixels.fill(255, y * SIDE + defect.x, y * SIDE + defect.x + defect.size);
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer();
}

/** A tiny dataset in the MVTec layout: 8 good to train on, 3 good and 3 scratched to test, masks for the scratches. */
async function writeDataset(dir: string, seed: number, defectSize: number): Promise<void> {
  const random = new Random(seed);
  for (const sub of ['train/good', 'test/good', 'test/scratch', 'ground_truth/scratch']) await mkdir(join(dir, sub), { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(dir, 'train/good', `${i}.png`), await card(random, null));
  for (let i = 0; i < 3; i++) {
    await writeFile(join(dir, 'test/good', `${i}.png`), await card(random, null));
    const defect = { x: 6 + 8 * i, y: 10 + 5 * i, size: defectSize };
    await writeFile(join(dir, 'test/scratch', `${i}.png`), await card(random, defect));
    await writeFile(join(dir, 'ground_truth/scratch', `${i}_mask.png`), await mask(defect));
  }
}

let suite = '';
before(async () => {
  suite = await mkdtemp(join(tmpdir(), 'kensa-bench-'));
  await writeDataset(join(suite, 'plain'), 1, 10);
  await writeDataset(join(suite, 'faint'), 2, 3);
  await mkdir(join(suite, 'notes'));
  await writeFile(join(suite, 'README.md'), 'not a dataset');
});
after(() => rm(suite, { recursive: true, force: true }));

const bench = (...args: string[]) => runKensa(['bench', ...args, '--size', '40']);

test('a folder of datasets is a suite: each set (not the other folders) in the JSON last line, with the mean and worst per algorithm', { timeout: 180_000 }, async () => {
  const run = await bench(suite, '--algorithm', 'PM', '--json');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.suite, true);
  assert.deepEqual(report.datasets, ['faint', 'plain']);
  assert.deepEqual(report.results.map((r: any) => [r.algorithm, r.dataset]), [['PM', 'faint'], ['PM', 'plain']]);
  for (const result of report.results) {
    for (const field of FIELDS) assert.ok(field in result, `${result.dataset} has ${field}`);
    assert.ok(result.pixel_auroc > 0.5, `${result.dataset}: masks make pixel metrics`);
    assert.ok(result.peak_rss_mb > 0 && result.train_peak_rss_mb > 0 && result.train_peak_rss_mb <= result.peak_rss_mb);
  }
  const [summary] = report.summary;
  assert.equal(summary.algorithm, 'PM');
  const [a, b] = report.results;
  assert.equal(summary.mean.image_auroc, (a.image_auroc + b.image_auroc) / 2);
  assert.equal(summary.worst.image_auroc, Math.min(a.image_auroc, b.image_auroc));
  assert.equal(summary.worst.train_seconds, Math.max(a.train_seconds, b.train_seconds), 'a cost is worst at its highest');
  assert.equal(summary.worstSet.train_seconds, a.train_seconds > b.train_seconds ? 'faint' : 'plain');
  // Each set ran in a process of its own: its progress came through on stderr.
  assert.match(run.stderr, /== PM on faint/);
  assert.match(run.stderr, /PM: scoring 6 test images/);
  // What the tables and the guide read back: the JSON last line, or each set's line on stderr (a stopped run keeps those).
  assert.deepEqual(benchResultsIn(run.stdout), report.results);
  assert.deepEqual(benchResultsIn(run.stderr).map((r) => [r.dataset, r.image_auroc]), report.results.map((r: any) => [r.dataset, r.image_auroc]));
});

test('the table: a row per set, then mean and worst; --algorithm lists one table per algorithm', { timeout: 240_000 }, async () => {
  const run = await bench(suite, '--algorithm', 'PM,IF');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').filter((l) => l.trim());
  const header = /^set\s+img_auroc\s+pix_auroc\s+aupro\s+f1\s+train_s\s+cpu_s\s+infer_ms\s+x_decode\s+rss_mb\s+train_rss_mb$/;
  for (const id of ['PM', 'IF']) {
    const at = lines.findIndex((l) => l.startsWith(`${id} — `));
    assert.ok(at >= 0, `a table for ${id}:\n${run.stdout}`);
    assert.match(lines[at + 1], header);
    assert.deepEqual(lines.slice(at + 2, at + 6).map((l) => l.split(/\s+/)[0]), ['faint', 'plain', 'mean', 'worst']);
    for (const line of lines.slice(at + 2, at + 6)) assert.match(line, /^\S+\s+[01]\.\d{3}\s+[01]\.\d{3}\s+[01]\.\d{3}\s+[01]\.\d{3}\s+\d+\.\d\s+\d+\s+\d+\.\d\s+\d+\.\d\s+\d+\s+\d+$/);
  }
});

test('one dataset still works, in this process: a row, no mean or worst', { timeout: 120_000 }, async () => {
  const run = await bench(join(suite, 'plain'), '--algorithm', 'PM');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(2).map((l) => l.split(/\s+/)[0]), ['plain']);
  assert.doesNotMatch(run.stderr, /failed/);
});

test('each kind of defect gets its own image AUROC against the good images, in the JSON and under the table', { timeout: 120_000 }, async () => {
  const dir = join(suite, 'two-kinds');
  await writeDataset(dir, 3, 10);
  // A second kind: faint specks, which a model may miss while it finds the scratches.
  const random = new Random(4);
  for (const sub of ['test/speck', 'ground_truth/speck']) await mkdir(join(dir, sub), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const defect = { x: 5 + 9 * i, y: 20, size: 2 };
    await writeFile(join(dir, 'test/speck', `${i}.png`), await card(random, defect));
    await writeFile(join(dir, 'ground_truth/speck', `${i}_mask.png`), await mask(defect));
  }
  try {
    const run = await bench(dir, '--algorithm', 'PM', '--json');
    assert.equal(run.code, 0, run.stderr);
    const [result] = JSON.parse(run.stdout.trim().split('\n').at(-1)!).results;
    assert.deepEqual(Object.keys(result.image_auroc_by_defect), ['scratch', 'speck']);
    for (const value of Object.values(result.image_auroc_by_defect) as number[]) assert.ok(value >= 0 && value <= 1);
    const { scratch, speck } = result.image_auroc_by_defect;
    assert.ok(Math.min(scratch, speck) <= result.image_auroc && result.image_auroc <= Math.max(scratch, speck), 'the whole lies between its kinds (equal counts)');
    const table = await bench(dir, '--algorithm', 'PM');
    assert.match(table.stdout, new RegExp(`two-kinds by defect: scratch ${scratch.toFixed(3)}, speck ${speck.toFixed(3)}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder that holds no dataset is a clear error, as is one that does not exist', { timeout: 60_000 }, async () => {
  const empty = await bench(join(suite, 'notes'), '--algorithm', 'PM');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /notes holds no dataset: a dataset in the MVTec AD layout has train\/good\/ and test\//);
  const missing = await bench('/no/such/dataset', '--algorithm', 'PM');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /\/no\/such\/dataset does not exist/);
});

test('the quick subset is fixed: the same images every time, at most 60 train and 60 test, stratified by defect kind', () => {
  const images = (kind: string | null, count: number): DatasetImage[] =>
    Array.from({ length: count }, (_, i) => ({ path: `${kind ?? 'good'}/${i}.png`, defect: kind, maskPath: null }));
  const dataset: MvtecDataset = {
    name: 'big',
    train: images(null, 400),
    test: [...images(null, 190), ...images('crack', 57), ...images('fray', 32), ...images('blowhole', 115), ...images('break', 3)],
  };
  const first = quickSubset(dataset);
  assert.deepEqual(quickSubset(dataset), first, 'deterministic');
  assert.equal(first.train.length, 60);
  assert.equal(first.test.length, 60);
  const count = (kind: string | null) => first.test.filter((t) => t.defect === kind).length;
  // Shares of 397 test images: good 190 → 28.7, crack 57 → 8.6, fray 32 → 4.8, blowhole 115 → 17.4, break 3 → 0.5: the
  // floors (break kept at one) leave two, which go to the largest remainders (fray, good).
  assert.deepEqual([count(null), count('crack'), count('fray'), count('blowhole'), count('break')], [29, 8, 5, 17, 1]);
  assert.ok(first.test.every((t, i) => i === 0 || dataset.test.indexOf(first.test[i - 1]) < dataset.test.indexOf(t)), 'in the dataset\'s order');
  const small: MvtecDataset = { name: 'small', train: images(null, 10), test: images('crack', 5) };
  assert.deepEqual(quickSubset(small), small, 'a set within the bounds is kept whole');
});

test('kensa bench on one real set with two algorithms: each in its own process, progress on stderr', { timeout: 300_000 }, async () => {
  // Every third image at a small working size: a quick run of two algorithms, one with AutoTune candidates.
  const run = await runKensa(['bench', COOKIES, '--algorithm', 'PM,IF', '--size', '64', '--subsample', '3', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.dataset, 'cookies');
  assert.equal(report.suite, false);
  assert.deepEqual(report.results.map((r: any) => r.algorithm), ['PM', 'IF']);
  for (const result of report.results) {
    assert.ok(result.image_auroc > 0.5 && result.image_auroc <= 1, `${result.algorithm} image AUROC ${result.image_auroc}`);
    assert.ok(result.pixel_auroc > 0.5 && result.aupro > 0, `${result.algorithm}: the cookies have masks`);
  }
  assert.deepEqual(report.results[0].auto_tuned, {});
  assert.ok([10, 50, 100, 200].includes(report.results[1].auto_tuned.n_estimators), JSON.stringify(report.results[1].auto_tuned));
  assert.match(run.stderr, /PM: training on \d+ images/);
  assert.match(run.stderr, /IF: scoring \d+ test images/);
});
