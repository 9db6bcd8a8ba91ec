import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running a TypeScript module. Node 20 does not apply the `--import tsx` hooks it passes on through
 * execArgv to a worker's entry module, so the worker first registers tsx itself and then imports the entry; this works
 * the same under `npm start`, `node --import tsx --test` and plain node.
 */
const TSX_API = import.meta.resolve('tsx/esm/api');

export function startTypeScriptWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const bootstrap = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
