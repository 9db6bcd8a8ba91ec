/** Printing for the command line: JSON for scripts, tables and progress bars for people. */
import { UsageError } from './flags.ts';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns; the header row is the first. */
export function printTable(rows: (string | number | null | undefined)[][]): void {
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  for (const row of cells) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

export interface Progress {
  update(done: number, total: number, note?: string): void;
  finish(note?: string): void;
}

/**
 * A bar redrawn in place when stdout is a terminal; otherwise one plain line per change (none with `--json`,
 * whose readers want stdout alone). Both go to stderr so stdout stays the command's result.
 */
export function createProgress(label: string, options: { json?: boolean; percent?: boolean } = {}): Progress {
  const interactive = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  let last = '';
  let drawn = false;
  return {
    update(done, total, note = '') {
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const count = options.percent ? `${Math.round(fraction * 100)}%` : `${done}/${total}`;
      if (interactive) {
        const width = 30;
        const filled = Math.round(fraction * width);
        // \x1b[2K clears the line first, so a shorter note leaves nothing of the longer one behind.
        process.stderr.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${count}${note ? ` ${note}` : ''}`);
        drawn = true;
        return;
      }
      const line = `${label}: ${count}${note ? ` ${note}` : ''}`;
      if (line !== last && !options.json) process.stderr.write(`${line}\n`);
      last = line;
    },
    finish(note) {
      if (interactive && drawn) process.stderr.write('\n');
      if (note && !options.json) process.stderr.write(`${note}\n`);
    },
  };
}

/** `--timeout SECONDS` to milliseconds. */
export function parseSeconds(value: string | boolean | undefined, fallbackSeconds: number): number {
  if (value === undefined || typeof value === 'boolean') return fallbackSeconds * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not ${value}`);
  return seconds * 1000;
}
