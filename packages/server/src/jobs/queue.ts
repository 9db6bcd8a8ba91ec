import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../store/database.ts';
import type { JobRow, JobsRepository } from '../store/jobs.repository.ts';
import type { StageValues, TrainingStage } from '@kensa/engine';
import { readJob, tryReadJob, type JobPayload, type QueuedJob, type QueuedJobTypes } from './payloads.ts';
import { WorkerCrashError, type WorkerPool } from './pool.ts';
import { QUEUED_JOB_NAMES, type QueuedJobName, type TransientJobName } from './protocol.ts';

/** A job that ran this many times without finishing (restarts, crashes) is failed, not retried again. */
export const MAX_ATTEMPTS = 3;

/** The rules around one kind of job, run on the main thread (database writes); the heavy part runs in a worker. */
export interface JobHandler<N extends QueuedJobName = QueuedJobName> {
  /**
   * The worker's input from the job's payload, or null when there is nothing left to do. What the input needs for
   * as long as the worker runs (files held in a download cache) is let go through `run.onEnd`.
   */
  prepare(job: QueuedJob<N>, run: JobRunScope): Promise<QueuedJobTypes[N]['input'] | null>;
  onProgress?(job: QueuedJob<N>, fraction: number, stage?: TrainingStage, values?: StageValues): Promise<void>;
  onDone(job: QueuedJob<N>, output: QueuedJobTypes[N]['output']): Promise<void>;
  onFailed(job: QueuedJob<N>, error: Error): Promise<void>;
  /** The job was interrupted by a stop or crash and will run again. */
  onRequeued?(job: QueuedJob<N>): Promise<void>;
  /** The job was interrupted too often and is given up. */
  onAbandoned?(job: QueuedJob<N>): Promise<void>;
  /** The job was cancelled while its worker ran it: remove what the worker wrote. */
  onCancelled?(job: QueuedJob<N>): Promise<void>;
}

/** One run of a job here, from prepare to its end however it ends (done, failed, cancelled, stopped). */
export interface JobRunScope {
  onEnd(cleanup: () => Promise<void>): void;
}

/** One handler per queued job name: the queue refuses to be built without one. */
export type JobHandlers = { [N in QueuedJobName]: JobHandler<N> };

export type NewJob = { [N in QueuedJobName]: { name: N; clientId: string; payload: JobPayload<N> } }[QueuedJobName];

/**
 * How queued jobs reach the processes that run them. Embedded: nothing to do (the one process claims from the
 * jobs table). Scale-out: pg-boss messages (see pg-boss-transport.ts), sent in the transaction that stores the job.
 */
export interface JobTransport {
  /** Tells workers about jobs just stored; runs inside the storing transaction. */
  announce(jobs: JobRow[]): Promise<void>;
  /** Starts handing job ids (and their names) to `deliver`, at most `capacity` at once. */
  listen(deliver: (jobId: number, name: QueuedJobName) => Promise<void>, capacity: number): Promise<void>;
  close(): Promise<void>;
}

export interface JobQueueOptions {
  /** Runs queued jobs here (false: an API server only; workers elsewhere run them). */
  runQueuedJobs: boolean;
  /** Absent: the embedded queue, where this process claims queued jobs from the table itself. */
  transport?: JobTransport;
  /** How long a claimed job stays this worker's without a renewal (ms). */
  leaseMs?: number;
}

/** Lease of a running job: renewed every third of it; a worker silent for a whole lease is taken for dead. */
export const DEFAULT_LEASE_MS = 30_000;

/** Jobs that may hold a worker for minutes (the others take a second or two). */
const LONG_JOB_NAMES: ReadonlySet<string> = new Set<QueuedJobName>(['train']);

/**
 * The persisted job queue and its dispatcher. Jobs wait in the database and run on the worker pool; one
 * failing job never stops the others. A running job holds a lease that its process renews, so that when a
 * process dies (crash, SIGKILL, a machine gone) any other process that runs jobs takes the job over once the
 * lease runs out; the lease also stops a job from running twice at once.
 */
export class JobQueue {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private closing = false;
  private readonly active = new Map<number, Promise<void>>();
  /** The job name of each active slot, to count the long ones. */
  private readonly activeNames = new Map<number, string>();
  /** Queued jobs executing here, by job id (the reaper leaves them alone). */
  private readonly executing = new Set<number>();
  /** Jobs of `executing` cancelled before their worker started them. */
  private readonly cancelledHere = new Set<number>();
  /** Jobs of one request (inspect, reading a model file): not persisted, served before queued jobs. */
  private readonly transient: { name: TransientJobName; input: unknown; resolve(output: unknown): void; reject(error: Error): void }[] = [];
  private transientCount = 0;
  private reaper: NodeJS.Timeout | null = null;
  /** A claim of the next queued job is in flight (embedded): one at a time. */
  private claiming = false;
  private readonly leaseMs: number;

  constructor(
    private readonly db: Database,
    private readonly jobs: JobsRepository,
    private readonly pool: WorkerPool,
    private readonly handlers: JobHandlers,
    private readonly options: JobQueueOptions = { runQueuedJobs: true },
  ) {
    for (const name of QUEUED_JOB_NAMES) if (!handlers[name]) throw new Error(`job ${name} has no handler`);
    for (const name of Object.keys(handlers)) if (!QUEUED_JOB_NAMES.includes(name as QueuedJobName)) throw new Error(`job ${name} has no worker handler`);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Starts running queued jobs (when this process runs them). Embedded: jobs the last process left running
   * run again at once (it is gone). Scale-out: they are taken over when their lease runs out.
   */
  async start(): Promise<void> {
    if (!this.options.runQueuedJobs) return;
    if (!this.options.transport) {
      for (const job of await this.jobs.interrupted()) await this.retryOrAbandon(job);
      this.pump();
    } else {
      await this.options.transport.listen((jobId, name) => this.deliver(jobId, name), this.pool.size);
    }
    this.reaper = setInterval(() => void this.reapExpiredLeases().catch(() => {}), Math.max(1000, this.leaseMs / 3));
    this.reaper.unref();
  }

  /** Stores one job and tells the workers. */
  async enqueue(job: NewJob): Promise<JobRow> {
    let stored!: JobRow;
    await this.enqueueMany([job], async () => {}, (rows) => { stored = rows[0]; });
    return stored;
  }

  /** Stores jobs together with `alongside` (other writes) in one transaction: all happen or none. */
  async enqueueMany(jobs: NewJob[], alongside: () => Promise<void>, stored?: (rows: JobRow[]) => void): Promise<void> {
    const rows = await this.db.transaction(async () => {
      await alongside();
      const inserted: JobRow[] = [];
      for (const job of jobs) inserted.push(await this.jobs.enqueue(job.name, job.clientId, job.payload));
      await this.options.transport?.announce(inserted);
      return inserted;
    });
    stored?.(rows);
    if (!this.options.transport) queueMicrotask(() => this.pump());
  }

  /** Jobs waiting or running, for GET /workers. */
  pending(): Promise<JobRow[]> {
    return this.jobs.pending();
  }

  /** Cancels a job; a worker in another process notices when it next renews its lease. */
  async cancel(jobId: number): Promise<void> {
    const job = await this.jobs.find(jobId);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
    await this.jobs.finish(jobId, 'cancelled');
    // A job of this process between its claim and its worker is stopped before it starts (the pool knows nothing of it yet).
    if (this.executing.has(jobId)) this.cancelledHere.add(jobId);
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

  /**
   * Long jobs (training) run on at most this many workers: with two or more, one always stays for predictions and
   * inspections, so that one tenant's trainings cannot hold another tenant's verdicts back for minutes.
   */
  private get longJobSlots(): number {
    return Math.max(1, this.pool.size - 1);
  }

  private longJobsRunning(): number {
    return [...this.activeNames.values()].filter((name) => LONG_JOB_NAMES.has(name)).length;
  }

  private hasRoomFor(name: string): boolean {
    return this.active.size < this.pool.size && (!LONG_JOB_NAMES.has(name) || this.longJobsRunning() < this.longJobSlots);
  }

  /** Starts transient, then (embedded) queued jobs while workers are free. */
  private pump(): void {
    // Counted here, not asked of the pool: a claimed job holds its place while it prepares its input.
    while (!this.closing && this.active.size < this.pool.size) {
      const waiting = this.transient.shift();
      if (!waiting) break;
      const id = -(++this.transientCount);
      this.track(id, waiting.name, this.pool.run(id, waiting.name, waiting.input, () => {}).then(waiting.resolve, waiting.reject));
    }
    if (this.options.runQueuedJobs && !this.options.transport && !this.claiming && !this.closing && this.active.size < this.pool.size) {
      this.claiming = true;
      const longJobsWait = this.longJobsRunning() >= this.longJobSlots;
      this.jobs.claimNext(this.workerId, this.leaseMs, longJobsWait ? [...LONG_JOB_NAMES] : []).then((job) => {
        this.claiming = false;
        if (!job) return;
        if (this.closing) return void this.jobs.requeue(job.job_id).catch(() => {});
        this.track(job.job_id, job.name, this.execute(job));
        this.pump();
      }, () => { this.claiming = false; });
    }
  }

  private readonly slotFreed: (() => void)[] = [];

  private track(id: number, name: string, run: Promise<void>): void {
    this.activeNames.set(id, name);
    this.active.set(id, run.finally(() => {
      this.active.delete(id);
      this.activeNames.delete(id);
      // Every waiter looks again: the one woken first may be a long job that still has to wait.
      for (const wake of this.slotFreed.splice(0)) wake();
      this.pump();
    }));
  }

  /** A job id from the transport: claimed here unless it is finished or another worker holds it. */
  private async deliver(jobId: number, name: string): Promise<void> {
    // Messages of every kind arrive at once; they wait here for a free worker thread (a long job for a long-job slot).
    while (!this.hasRoomFor(name) && !this.closing) await new Promise((resolve) => this.slotFreed.push(resolve as () => void));
    if (this.closing) throw new WorkerCrashError('worker stopping');
    // The slot is held from here on, before the claim's round trip: the other waiters woken with this one see it taken.
    let release!: () => void;
    this.track(-(++this.transientCount), name, new Promise<void>((resolve) => { release = resolve; }));
    try {
      const job = await this.jobs.claim(jobId, this.workerId, this.leaseMs);
      if (!job) return; // done, cancelled, or running under another worker's live lease
      await this.execute(job);
    } finally {
      release();
    }
  }

  private async execute(job: JobRow): Promise<void> {
    this.executing.add(job.job_id);
    try {
      await this.executeHere(job);
    } finally {
      this.executing.delete(job.job_id);
      this.cancelledHere.delete(job.job_id);
    }
  }

  /** Each handler takes the jobs of its own name, which `job.name` picks. */
  private handlerOf(job: QueuedJob): JobHandler {
    return this.handlers[job.name] as JobHandler;
  }

  private async executeHere(row: JobRow): Promise<void> {
    let job: QueuedJob;
    try {
      job = readJob(row);
    } catch (error) {
      await this.jobs.finish(row.job_id, 'failed', error instanceof Error ? error.message : String(error));
      return;
    }
    const handler = this.handlerOf(job);
    let lost = false;
    const renewal = setInterval(() => {
      this.jobs.renew(job.job_id, this.workerId, this.leaseMs).then((mine) => {
        if (!mine && !lost) {
          lost = true; // cancelled, or taken over after this process stalled: stop working on it
          this.pool.abort(job.job_id);
        }
      }, () => {});
    }, Math.max(500, this.leaseMs / 3));
    const stillMine = async () => {
      const now = await this.jobs.find(job.job_id);
      return !lost && now?.status === 'running' && now.worker_id === this.workerId;
    };
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const input = await handler.prepare(job, { onEnd: (cleanup) => cleanups.push(cleanup) });
      if (this.cancelledHere.has(job.job_id)) return;
      if (input === null) {
        await this.jobs.finish(job.job_id, 'done', 'nothing to do');
        return;
      }
      const output = await this.pool.run(job.job_id, job.name, input, (fraction, stage, values) => {
        if (!lost) void handler.onProgress?.(job, fraction, stage, values).catch(() => {});
      });
      if (!await stillMine()) return;
      // The worker ran the handler of this job's name (handlers.ts), which returns this name's output.
      await handler.onDone(job, output as QueuedJobTypes[QueuedJobName]['output']);
      await this.jobs.finish(job.job_id, 'done');
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      if (this.closing && e instanceof WorkerCrashError) {
        // Stopped by a shutdown: the job goes back to the queue and runs again (at the next start, or elsewhere).
        await this.jobs.requeue(job.job_id).catch(() => {});
        await handler.onRequeued?.(job).catch(() => {});
        await this.options.transport?.announce([job]).catch(() => {});
        return;
      }
      if (!await stillMine().catch(() => false)) {
        // Cancelled (its model or item deleted): what the worker wrote so far goes.
        if ((await this.jobs.find(job.job_id).catch(() => undefined))?.status === 'cancelled') await handler.onCancelled?.(job).catch(() => {});
        return;
      }
      await this.jobs.finish(job.job_id, 'failed', `${e.name}: ${e.message}`);
      await handler.onFailed(job, e);
    } finally {
      clearInterval(renewal);
      for (const cleanup of cleanups) await cleanup().catch(() => {});
    }
  }

  /** Jobs of processes that died (their lease ran out): run again, or given up after too many attempts. */
  private async reapExpiredLeases(): Promise<void> {
    if (this.closing) return;
    for (const job of await this.jobs.expired()) {
      if (this.executing.has(job.job_id)) continue;
      await this.retryOrAbandon(job);
    }
  }

  private async retryOrAbandon(row: JobRow): Promise<void> {
    // A job this version cannot read (another version's) is requeued or given up without a handler.
    const job = tryReadJob(row);
    if (row.attempts >= MAX_ATTEMPTS) {
      await this.jobs.finish(row.job_id, 'failed', `interrupted ${row.attempts} times`);
      if (job) await this.handlerOf(job).onAbandoned?.(job);
      return;
    }
    await this.jobs.requeue(row.job_id);
    if (job) await this.handlerOf(job).onRequeued?.(job);
    await this.options.transport?.announce([row]);
    this.pump();
  }

  /** Stops taking jobs, stops the workers and puts interrupted jobs back in the queue. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.slotFreed.splice(0)) wake();
    if (this.reaper) clearInterval(this.reaper);
    for (const waiting of this.transient.splice(0)) waiting.reject(new WorkerCrashError('server stopped'));
    // Running jobs end with the pool and go back to the queue (announced again) before the transport stops.
    await this.pool.close();
    await Promise.allSettled([...this.active.values()]);
    await this.options.transport?.close();
  }
}
