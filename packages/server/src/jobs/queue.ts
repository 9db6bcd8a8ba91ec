import type { JobRow, JobsRepository } from '../store/jobs.repository.ts';
import { WorkerCrashError, type WorkerPool } from './pool.ts';
import { QUEUED_JOB_NAMES, type QueuedJobName, type TransientJobName } from './protocol.ts';

/** A job that ran this many times without finishing (restarts, crashes) is failed, not retried again. */
export const MAX_ATTEMPTS = 3;

/** The rules around one kind of job, run on the main thread (database writes); the heavy part runs in a worker. */
export interface JobHandler {
  /** The worker's input from the job's payload, or null when there is nothing left to do. */
  prepare(job: JobRow): Promise<unknown | null>;
  onProgress?(job: JobRow, fraction: number, message: string): void;
  onDone(job: JobRow, output: unknown): Promise<void>;
  onFailed(job: JobRow, error: Error): void;
  /** The job was interrupted by a stop or crash and will run again. */
  onRequeued?(job: JobRow): void;
  /** The job was interrupted too often and is given up. */
  onAbandoned?(job: JobRow): void;
}

/**
 * Persisted queue + dispatcher: jobs wait in the database and run on the worker pool in order;
 * one failing job never stops the others.
 */
export class JobQueue {
  private closing = false;
  private readonly active = new Map<number, Promise<void>>();
  /** Jobs of one request (inspect, reading a model file): not persisted, served before queued jobs. */
  private readonly transient: { name: TransientJobName; input: unknown; resolve(output: unknown): void; reject(error: Error): void }[] = [];
  private transientCount = 0;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly pool: WorkerPool,
    private readonly handlers: Record<QueuedJobName, JobHandler>,
  ) {
    for (const name of QUEUED_JOB_NAMES) if (!handlers[name]) throw new Error(`job ${name} has no handler`);
    for (const name of Object.keys(handlers)) if (!QUEUED_JOB_NAMES.includes(name as QueuedJobName)) throw new Error(`job ${name} has no worker handler`);
  }

  /** After a start: jobs the last process left running run again, or fail once they were tried too often. */
  recover(): void {
    for (const job of this.jobs.interrupted()) {
      const handler = this.handlers[job.name as QueuedJobName];
      if (job.attempts >= MAX_ATTEMPTS) {
        this.jobs.finish(job.job_id, 'failed', `interrupted ${job.attempts} times`);
        handler?.onAbandoned?.(job);
      } else {
        this.jobs.requeue(job.job_id);
        handler?.onRequeued?.(job);
      }
    }
    this.pump();
  }

  enqueue(name: QueuedJobName, clientId: string, payload: unknown): JobRow {
    const job = this.jobs.enqueue(name, clientId, payload);
    queueMicrotask(() => this.pump());
    return job;
  }

  /** Jobs waiting or running, for GET /workers. */
  pending(): JobRow[] {
    return this.jobs.pending();
  }

  cancel(jobId: number): void {
    const job = this.jobs.find(jobId);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
    this.jobs.finish(jobId, 'cancelled');
    this.pool.abort(jobId);
  }

  /** Runs a job for a waiting request on the next free worker; nothing is stored. */
  runNow(name: TransientJobName, input: unknown): Promise<unknown> {
    if (this.closing) return Promise.reject(new WorkerCrashError('server stopped'));
    return new Promise((resolve, reject) => {
      this.transient.push({ name, input, resolve, reject });
      this.pump();
    });
  }

  /** Starts transient, then queued jobs while workers are free. */
  pump(): void {
    // Counted here, not asked of the pool: a claimed job holds its place while it prepares its input.
    while (!this.closing && this.active.size < this.pool.size) {
      const waiting = this.transient.shift();
      if (waiting) {
        const id = -(++this.transientCount);
        const run = this.pool.run(id, waiting.name, waiting.input, () => {}).then(waiting.resolve, waiting.reject).finally(() => {
          this.active.delete(id);
          this.pump();
        });
        this.active.set(id, run);
        continue;
      }
      const job = this.jobs.claimNext();
      if (!job) return;
      const run = this.execute(job).finally(() => {
        this.active.delete(job.job_id);
        this.pump();
      });
      this.active.set(job.job_id, run);
    }
  }

  private async execute(job: JobRow): Promise<void> {
    const handler = this.handlers[job.name as QueuedJobName];
    try {
      const input = await handler.prepare(job);
      if (input === null) {
        this.jobs.finish(job.job_id, 'done', 'nothing to do');
        return;
      }
      const output = await this.pool.run(job.job_id, job.name, input, (fraction, message) => {
        if (this.jobs.find(job.job_id)?.status === 'running') handler.onProgress?.(job, fraction, message);
      });
      if (this.jobs.find(job.job_id)?.status !== 'running') return; // cancelled meanwhile
      await handler.onDone(job, output);
      this.jobs.finish(job.job_id, 'done');
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      if (this.jobs.find(job.job_id)?.status !== 'running') return;
      if (this.closing && e instanceof WorkerCrashError) {
        // Stopped by a shutdown: the job goes back to the queue and runs again at the next start.
        this.jobs.requeue(job.job_id);
        handler.onRequeued?.(job);
        return;
      }
      this.jobs.finish(job.job_id, 'failed', `${e.name}: ${e.message}`);
      handler.onFailed(job, e);
    }
  }

  /** Stops taking jobs, stops the workers and puts interrupted jobs back in the queue. */
  async close(): Promise<void> {
    this.closing = true;
    for (const waiting of this.transient.splice(0)) waiting.reject(new WorkerCrashError('server stopped'));
    await this.pool.close();
    await Promise.allSettled([...this.active.values()]);
  }
}
