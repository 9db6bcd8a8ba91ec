import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  ALGORITHMS, benchAlgorithm, findDatasets, getAlgorithm, loadMvtecDataset, quickSubset, summariseSuite,
  type BenchResult, type SuiteSummary,
} from '@kensa/engine';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';

/**
 * The development suite's folder when none is named: `KENSA_DATASETS_DIR`, else `../shared/datasets` (beside a
 * clone, where the development machines keep it) when it exists.
 */
function defaultDatasetsDir(): string {
  const fromEnv = process.env.KENSA_DATASETS_DIR;
  if (fromEnv) return fromEnv;
  const beside = resolve('../shared/datasets');
  if (existsSync(beside)) return beside;
  throw new UsageError('bench needs a dataset folder (MVTec layout), or a folder of them; or set KENSA_DATASETS_DIR');
}

/** The CLI's own entry (it registers tsx itself), so that a child runs the same code however this one started. */
const KENSA_BIN = resolve(import.meta.dirname, '../../bin/kensa.js');

/** A set that failed (a crash, or over the time limit) in a suite run: listed, left out of mean and worst. */
interface FailedRun {
  algorithm: string;
  dataset: string;
  error: string;
}

export const benchCommand: CommandSpec = {
  name: 'bench',
  summary: 'Measure algorithms on a dataset in the MVTec AD layout, or on a folder of them (a suite)',
  usage: 'kensa bench [DATASETS_DIR] [--algorithm ID[,ID…]|all] [--quick] [--size N] [--param name=value …] [--calibration global|location] [--subsample K] [--minutes N] [--in-process] [--json]',
  examples: [
    'kensa bench ../shared/datasets --algorithm PS',
    'kensa bench ../shared/datasets --algorithm all --quick',
    'kensa bench ../shared/datasets/cookies --algorithm PM,IF --json',
  ],
  async run(argv) {
    const { positional, flags, repeated } = parseFlags(argv, {
      string: ['algorithm', 'size', 'calibration', 'subsample', 'minutes'], boolean: ['json', 'quick', 'in-process'], repeat: ['param'],
    });
    const root = positional[0] ?? defaultDatasetsDir();
    const ids = !flags.algorithm || flags.algorithm === 'all' ? ALGORITHMS.map((a) => a.id) : String(flags.algorithm).split(',');
    for (const id of ids) getAlgorithm(id);
    const sets = await findDatasets(root);
    const log = (m: string) => process.stderr.write(`${m}\n`);
    const results: BenchResult[] = [];
    const failed: FailedRun[] = [];
    const summaries: SuiteSummary[] = [];
    const inProcess = flags['in-process'] === true || sets.length * ids.length === 1;
    for (const id of ids) {
      const ofAlgorithm: BenchResult[] = [];
      for (const set of sets) {
        if (sets.length * ids.length > 1) log(`== ${id} on ${basename(set)}${flags.quick ? ' (quick subset)' : ''}`);
        try {
          const result = inProcess ? await benchHere(set, id, flags, repeated.param ?? [], log) : await benchInChild(set, id, argv, root, flags.minutes);
          ofAlgorithm.push(result);
          // Each finished set's figures go to stderr at once: a long suite run that is stopped keeps what it measured.
          if (sets.length * ids.length > 1) log(`${id} on ${result.dataset}: ${JSON.stringify(result)}`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (inProcess) throw error;
          failed.push({ algorithm: id, dataset: basename(set), error: message });
          log(`${id} on ${basename(set)} failed: ${message}`);
        }
      }
      results.push(...ofAlgorithm);
      const summary = summariseSuite(id, ofAlgorithm);
      summaries.push(summary);
      if (!flags.json) printTable(id, ofAlgorithm, failed.filter((f) => f.algorithm === id), sets.length > 1 ? summary : null);
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({
        dataset: basename(resolve(root)), suite: sets.length > 1, quick: flags.quick === true, datasets: sets.map((s) => basename(s)),
        results, summary: summaries, failed,
      })}\n`);
    }
    return failed.length > 0 ? 1 : 0;
  },
};

type Flags = ReturnType<typeof parseFlags>['flags'];

/** One set and one algorithm in this process. */
async function benchHere(set: string, id: string, flags: Flags, paramFlags: string[], log: (m: string) => void): Promise<BenchResult> {
  const params: Record<string, unknown> = {};
  for (const p of paramFlags) {
    const [name, ...rest] = p.split('=');
    params[name] = rest.join('=');
  }
  const full = await loadMvtecDataset(set);
  const dataset = flags.quick ? quickSubset(full) : full;
  return benchAlgorithm(dataset, id, {
    size: flags.size ? Number(flags.size) : undefined,
    params,
    calibration: flags.calibration as 'global' | 'location' | undefined,
    subsample: flags.subsample ? Number(flags.subsample) : undefined,
    onProgress: log,
  });
}

/**
 * One set and one algorithm in a child process (`kensa bench SET --algorithm ID --json` with the same options), so
 * that its peak RSS is its own and memory one set left behind does not count against the next. Progress passes
 * through to stderr; `--minutes` ends a child that runs longer.
 */
function benchInChild(set: string, id: string, argv: string[], root: string, minutes: string | boolean | undefined): Promise<BenchResult> {
  const options = withoutOption(withoutOption(argv.filter((a) => a !== root), 'algorithm'), 'minutes');
  const args = [KENSA_BIN, 'bench', set, '--algorithm', id, ...options.filter((a) => a !== '--json'), '--json', '--in-process'];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let overTime = false;
    const limit = minutes ? setTimeout(() => { overTime = true; child.kill('SIGKILL'); }, Number(minutes) * 60_000) : null;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      if (limit) clearTimeout(limit);
      if (overTime) return fail(new Error(`over the ${minutes}-minute limit`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        done((JSON.parse(last) as { results: BenchResult[] }).results[0]);
      } catch (error) {
        fail(new Error(`${error instanceof Error ? error.message : error}${last ? `: ${last}` : ''}`));
      }
    });
  });
}

/** argv without `--name value` / `--name=value`. */
function withoutOption(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) { i++; continue; }
    if (argv[i].startsWith(`--${name}=`)) continue;
    out.push(argv[i]);
  }
  return out;
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));
const f1d = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(1));
const f0 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(0));
const COLUMNS = ['set', 'img_auroc', 'pix_auroc', 'aupro', 'f1', 'train_s', 'cpu_s', 'infer_ms', 'x_decode', 'rss_mb', 'train_rss_mb'];
const WIDTHS = [15, 9, 9, 6, 6, 8, 7, 9, 8, 7, 12];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]) : c.padStart(WIDTHS[i]))).join(' ');
}

/**
 * One algorithm's table: a row per set, then the mean and the worst (lowest quality, highest cost) over the sets.
 * cpu_s is the processor time of training and scoring together (what a set costs whatever else the machine runs).
 */
function printTable(id: string, results: BenchResult[], failed: FailedRun[], summary: SuiteSummary | null): void {
  console.log(`${id} — ${getAlgorithm(id).name}`);
  console.log(row(COLUMNS));
  for (const r of results) {
    console.log(row([r.dataset, f3(r.image_auroc), f3(r.pixel_auroc), f3(r.aupro), f3(r.f1), f1d(r.train_seconds), f0(r.cpu_seconds), f1d(r.infer_ms_per_image),
      f1d(r.infer_decode_ratio), f0(r.peak_rss_mb), f0(r.train_peak_rss_mb)]));
  }
  for (const f of failed) console.log(`${f.dataset.padEnd(WIDTHS[0])} failed: ${f.error}`);
  // Which kinds of defect the model misses: each kind's image AUROC against the good test images.
  for (const r of results) {
    const kinds = Object.entries(r.image_auroc_by_defect ?? {});
    if (kinds.length > 1) console.log(`  ${r.dataset} by defect: ${kinds.map(([kind, value]) => `${kind} ${f3(value)}`).join(', ')}`);
  }
  if (summary) {
    for (const [label, figures] of [['mean', summary.mean], ['worst', summary.worst]] as const) {
      console.log(row([label, f3(figures.image_auroc), f3(figures.pixel_auroc), f3(figures.aupro), f3(figures.f1), f1d(figures.train_seconds),
        f0(figures.cpu_seconds), f1d(figures.infer_ms_per_image), f1d(figures.infer_decode_ratio), f0(figures.peak_rss_mb), f0(figures.train_peak_rss_mb)]));
    }
  }
  console.log('');
}
