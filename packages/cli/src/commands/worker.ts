import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { serverSettings } from '../server-settings.ts';

export const workerCommand: CommandSpec = {
  name: 'worker',
  summary: 'Run training and prediction jobs of a scale-out installation (PostgreSQL + shared storage) until Ctrl-C',
  usage: 'kensa worker [--concurrency N] [--data-dir DIR] [--json]   (needs KENSA_DATABASE_URL; KENSA_BLOB_URL when on several machines)',
  examples: [
    'KENSA_DATABASE_URL=postgres://db/kensa KENSA_BLOB_URL="s3://kensa?endpoint=http://minio:9000" kensa worker --concurrency 2',
  ],
  async run(argv) {
    const { flags, positional } = parseFlags(argv, { string: ['concurrency', 'data-dir'], boolean: ['json'] });
    if (positional.length) throw new UsageError(`worker takes no arguments (got ${positional.join(' ')})`);
    const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new UsageError('--concurrency must be a positive integer');
    const settings = await serverSettings(flags);
    if (!settings.databaseUrl) throw new UsageError('kensa worker needs KENSA_DATABASE_URL=postgres://… (the installation\'s database, where jobs wait)');
    const { startWorker } = await import('@kensa/server');
    // Threads come from --concurrency (default: one per core); KENSA_WORKERS is `kensa serve`'s.
    const worker = await startWorker({ ...settings, workers: concurrency });
    if (flags.json) console.log(JSON.stringify({ worker_id: worker.workerId }));
    else console.log(`Kensa worker ${worker.workerId} taking jobs — Ctrl-C stops it (its running jobs go back to the queue)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await worker.close();
    return 0;
  },
};
