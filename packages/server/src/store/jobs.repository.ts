import { nowIso, type Db } from './database.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRow {
  job_id: number;
  name: string;
  client_id: string;
  payload_json: string;
  status: JobStatus;
  attempts: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The persisted job queue: jobs survive restarts; the dispatcher claims them in order. */
export class JobsRepository {
  constructor(private readonly db: Db) {}

  enqueue(name: string, clientId: string, payload: unknown): JobRow {
    const info = this.db.prepare(`INSERT INTO jobs (name, client_id, payload_json, status, created_at) VALUES (?, ?, ?, 'queued', ?)`)
      .run(name, clientId, JSON.stringify(payload), nowIso());
    return this.find(Number(info.lastInsertRowid))!;
  }

  find(jobId: number): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as JobRow | undefined;
  }

  /** Takes the oldest queued job, marking it running, in one step. */
  claimNext(): JobRow | undefined {
    return this.db.transaction(() => {
      const job = this.db.prepare(`SELECT * FROM jobs WHERE status = 'queued' ORDER BY job_id LIMIT 1`).get() as JobRow | undefined;
      if (!job) return undefined;
      this.db.prepare(`UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? WHERE job_id = ?`).run(nowIso(), job.job_id);
      return this.find(job.job_id);
    })();
  }

  finish(jobId: number, status: 'done' | 'failed' | 'cancelled', error: string | null = null): void {
    this.db.prepare('UPDATE jobs SET status = ?, error = ?, finished_at = ? WHERE job_id = ?').run(status, error, nowIso(), jobId);
  }

  requeue(jobId: number): void {
    this.db.prepare(`UPDATE jobs SET status = 'queued', started_at = NULL WHERE job_id = ?`).run(jobId);
  }

  /** Jobs a previous process left running (it stopped or crashed mid-way). */
  interrupted(): JobRow[] {
    return this.db.prepare(`SELECT * FROM jobs WHERE status = 'running' ORDER BY job_id`).all() as JobRow[];
  }

  pending(): JobRow[] {
    return this.db.prepare(`SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY job_id`).all() as JobRow[];
  }

  /** Queued or running jobs whose payload names a model (to cancel them with the model). */
  pendingForModel(modelId: number): JobRow[] {
    return this.pending().filter((job) => (JSON.parse(job.payload_json) as { modelId?: number }).modelId === modelId);
  }
}
