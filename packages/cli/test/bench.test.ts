import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';
import { runKensa } from './run-kensa.ts';

/** `kensa bench` as the issue defines it: figures per algorithm, progress on stderr, one JSON object last with --json. */
const COOKIES = process.env.KENSA_COOKIES_DIR ?? sampleDataset('cookies');
const FIELDS = ['algorithm', 'image_auroc', 'pixel_auroc', 'aupro', 'f1', 'train_seconds', 'decode_ms_per_image', 'infer_ms_per_image', 'peak_rss_mb'];

test('kensa bench --json: the last stdout line is {dataset, results} with every figure; progress goes to stderr', { timeout: 300_000 }, async () => {
  // Every third image at a small working size: a quick run of two algorithms, one with AutoTune candidates.
  const run = await runKensa(['bench', COOKIES, '--algorithm', 'PM,IF', '--size', '64', '--subsample', '3', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  const report = JSON.parse(lines.at(-1)!);
  assert.equal(report.dataset, 'cookies');
  assert.deepEqual(report.results.map((r: any) => r.algorithm), ['PM', 'IF']);
  for (const result of report.results) {
    for (const field of FIELDS) assert.ok(field in result, `${result.algorithm} has ${field}`);
    assert.ok(result.image_auroc > 0.5 && result.image_auroc <= 1, `${result.algorithm} image AUROC ${result.image_auroc}`);
    assert.ok(result.pixel_auroc > 0.5 && result.aupro > 0, `${result.algorithm}: the cookies have masks`);
    assert.ok(result.train_seconds > 0 && result.decode_ms_per_image > 0 && result.infer_ms_per_image > 0 && result.peak_rss_mb > 0);
  }
  assert.deepEqual(report.results[0].auto_tuned, {});
  assert.ok([10, 50, 100, 200].includes(report.results[1].auto_tuned.n_estimators), JSON.stringify(report.results[1].auto_tuned));
  assert.match(run.stderr, /PM: training on \d+ images/);
  assert.match(run.stderr, /IF: scoring \d+ test images/);
});

test('kensa bench prints a table without --json, and a folder that is not a dataset is a clear error', { timeout: 120_000 }, async () => {
  const table = await runKensa(['bench', COOKIES, '--algorithm', 'PM', '--size', '48', '--subsample', '4']);
  assert.equal(table.code, 0, table.stderr);
  const [header, row] = table.stdout.trim().split('\n');
  assert.match(header, /^algo\s+img_auroc\s+pix_auroc\s+aupro\s+f1\s+train_s\s+decode_ms\s+infer_ms\s+rss_mb\s+model_mb$/);
  assert.match(row, /^PM\s+0\.\d{3}\s+0\.\d{3}/);
  const missing = await runKensa(['bench', '/no/such/dataset', '--algorithm', 'PM']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no\/such\/dataset/);
});
