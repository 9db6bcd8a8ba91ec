#!/usr/bin/env node
// Runs the TypeScript entry through tsx, so the command works straight from a clone.
import { spawn } from 'node:child_process';
import { register } from 'tsx/esm/api';

/**
 * glibc's malloc keeps what each thread frees in that thread's arena, and after the first large free it stops handing
 * image-sized buffers back to the system: PS training on two worker threads then held 744 MB of resident memory where
 * 519 would do with two arenas, and 397 with large buffers always mapped (deeppcb, 400 images; docs/deployment.md).
 * The commands that train (serve, worker, bench) start again once with a bounded allocator unless one is set.
 */
const BOUNDED_ALLOCATOR = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '262144' };
const TRAINING_COMMANDS = new Set(['serve', 'worker', 'bench']);

if (process.platform === 'linux' && TRAINING_COMMANDS.has(process.argv[2]) && process.env.MALLOC_ARENA_MAX === undefined) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, ...BOUNDED_ALLOCATOR },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
} else {
  register();
  const { main } = await import('../src/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
