/** Runs the `kensa` command line as a user would, in a child process (asynchronously: the server under test lives in this process). */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '../src/main.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runKensa(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, KENSA_API_URL: '', KENSA_CLIENT_ID: '', KENSA_CLIENT_SECRET: '', KENSA_LANGUAGE: '', ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Parses a run's stdout as JSON, saying what was printed when it is not. */
export function json<T = any>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
