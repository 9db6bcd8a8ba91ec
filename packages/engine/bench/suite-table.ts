/**
 * The Markdown table of BENCHMARKS.md from `kensa bench` output: the JSON last line of `--json`, or the stderr of a
 * suite run (one `ID on SET: {…}` line per finished set, which a stopped run keeps). Several files may be given; a
 * later figure of the same algorithm and set replaces an earlier one.
 *
 *   node --import tsx packages/engine/bench/suite-table.ts RUN.json RUN.err …
 */
import { readFile } from 'node:fs/promises';
import { benchResultsIn, summariseSuite, type BenchResult } from '../src/index.ts';

const results = new Map<string, BenchResult>();
for (const file of process.argv.slice(2)) {
  for (const r of benchResultsIn(await readFile(file, 'utf8'))) results.set(`${r.algorithm} ${r.dataset}`, r);
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));
const f1 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(1));
const f0 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(0));
const algorithms = [...new Set([...results.values()].map((r) => r.algorithm))];
console.log('| algorithm | set | image AUROC | pixel AUROC | AUPRO | F1 | train s (CPU s) | train + score CPU s | infer ms (× decode) | peak RSS MB (training) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const algorithm of algorithms) {
  const rows = [...results.values()].filter((r) => r.algorithm === algorithm).sort((a, b) => a.dataset.localeCompare(b.dataset));
  for (const r of rows) {
    console.log(`| ${algorithm} | ${r.dataset} | ${f3(r.image_auroc)} | ${f3(r.pixel_auroc)} | ${f3(r.aupro)} | ${f3(r.f1)} | ${f1(r.train_seconds)} (${f1(r.train_cpu_seconds)}) | ${f0(r.cpu_seconds)} | ${f1(r.infer_ms_per_image)} (${f1(r.infer_decode_ratio)}×) | ${f0(r.peak_rss_mb)} (${f0(r.train_peak_rss_mb)}) |`);
  }
  if (rows.length < 2) continue;
  const s = summariseSuite(algorithm, rows);
  for (const [label, v] of [['mean', s.mean], ['worst', s.worst]] as const) {
    console.log(`| ${algorithm} | **${label}** | ${f3(v.image_auroc)} | ${f3(v.pixel_auroc)} | ${f3(v.aupro)} | ${f3(v.f1)} | ${f1(v.train_seconds)} (${f1(v.train_cpu_seconds)}) | ${f0(v.cpu_seconds)} | ${f1(v.infer_ms_per_image)} (${f1(v.infer_decode_ratio)}×) | ${f0(v.peak_rss_mb)} (${f0(v.train_peak_rss_mb)}) |`);
  }
}
