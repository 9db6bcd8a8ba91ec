import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startTypeScriptWorker } from '@kensa/engine';
import type { FromWorker, ProgressReport, ToWorker } from './protocol.ts';

export class WorkerCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashError';
  }
}

interface Running {
  jobId: number;
  resolve(output: unknown): void;
  reject(error: Error): void;
  onProgress: ProgressReport;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  running: Running | null;
}

/** The worker entry, TypeScript: started through tsx (see the engine's `startTypeScriptWorker`). */
const WORKER_ENTRY = new URL('./worker.ts', import.meta.url);

/** How long an aborted job may take to stop by itself before its worker thread is stopped. */
const ABORT_GRACE_MS = 500;

/** A fixed set of worker threads, one job each at a time; a crashed worker is replaced. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private closed = false;
  readonly size: number;

  constructor(size = Math.max(1, availableParallelism())) {
    this.size = size;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = startTypeScriptWorker(WORKER_ENTRY);
    let markReady!: () => void;
    const slot: Slot = { worker, ready: new Promise((resolve) => { markReady = resolve; }), running: null };
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') return markReady();
      const running = slot.running;
      if (!running || running.jobId !== message.jobId) return;
      if (message.type === 'progress') running.onProgress(message.fraction, message.stage, message.values);
      else {
        slot.running = null;
        if (message.type === 'done') running.resolve(message.output);
        else running.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      }
    });
    const onDeath = (reason: string) => {
      const running = slot.running;
      slot.running = null;
      running?.reject(new WorkerCrashError(reason));
      if (!this.closed) this.slots[this.slots.indexOf(slot)] = this.spawn();
    };
    worker.on('error', (error) => onDeath(error.message));
    worker.on('exit', (code) => { if (!this.closed) onDeath(`exit code ${code}`); });
    return slot;
  }

  /** Runs a named job on an idle worker (the queue never runs more jobs than the pool has workers). */
  run(jobId: number, name: string, input: unknown, onProgress: Running['onProgress']): Promise<unknown> {
    const slot = this.slots.find((s) => s.running === null);
    if (!slot || this.closed) return Promise.reject(new Error('no idle worker'));
    return new Promise((resolve, reject) => {
      slot.running = { jobId, resolve, reject, onProgress };
      void slot.ready.then(() => slot.worker.postMessage({ type: 'run', jobId, name, input } satisfies ToWorker));
    });
  }

  /**
   * Stops a job: its worker is asked to abort, and is stopped and replaced when the job still runs after a grace
   * period (a training step that computes for seconds reads no messages in between).
   */
  abort(jobId: number): void {
    for (const slot of this.slots) {
      if (slot.running?.jobId !== jobId) continue;
      slot.worker.postMessage({ type: 'abort', jobId } satisfies ToWorker);
      setTimeout(() => {
        if (slot.running?.jobId === jobId && !this.closed) void slot.worker.terminate();
      }, ABORT_GRACE_MS).unref();
    }
  }

  /** The ids of the jobs the workers run now. */
  runningJobIds(): number[] {
    return this.slots.flatMap((slot) => (slot.running ? [slot.running.jobId] : []));
  }

  /** Stops every worker; jobs still running are rejected (the queue puts them back for the next start). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => {
      const running = slot.running;
      slot.running = null;
      await slot.worker.terminate();
      running?.reject(new WorkerCrashError('server stopped'));
    }));
  }
}
