import { inList, nowIso, sql, type Database } from './database.ts';

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
  worker_id: string | null;
  lease_expires_at: number | null;
}

/**
 * The persisted job queue: jobs survive restarts. A job is run by one worker at a time: claiming it takes a lease
 * that the worker renews while it runs; a lease that runs out means its worker died, and another may claim the job.
 */
export class JobsRepository {
  constructor(private readonly db: Database) {}

  async enqueue(name: string, clientId: string, payload: unknown): Promise<JobRow> {
    return (await this.db.get<JobRow>(sql`INSERT INTO jobs (name, client_id, payload_json, status, created_at)
      VALUES (${name}, ${clientId}, ${JSON.stringify(payload)}, 'queued', ${nowIso()}) RETURNING *`))!;
  }

  /** Jobs waiting and running, and when the oldest waiting one was queued (for monitoring). */
  async backlog(): Promise<{ queued: number; running: number; oldestQueuedAt: string | null }> {
    const rows = await this.db.all<{ status: JobStatus; n: number; oldest: string }>(sql`SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest
      FROM jobs WHERE status IN ('queued', 'running') GROUP BY status`);
    const of = (status: JobStatus) => rows.find((row) => row.status === status);
    return { queued: Number(of('queued')?.n ?? 0), running: Number(of('running')?.n ?? 0), oldestQueuedAt: of('queued')?.oldest ?? null };
  }

  find(jobId: number): Promise<JobRow | undefined> {
    return this.db.get<JobRow>(sql`SELECT * FROM jobs WHERE job_id = ${jobId}`);
  }

  /**
   * Takes the next queued job for this worker (the embedded queue's order): the oldest of a client with nothing
   * running, else the oldest, so that one client's backlog does not hold back another's jobs. Jobs named in
   * `waiting` stay queued (long jobs while the long-job slots are taken).
   */
  async claimNext(workerId: string, leaseMs: number, waiting: readonly string[] = []): Promise<JobRow | undefined> {
    for (;;) {
      const next = await this.nextFairly(waiting);
      if (!next) return undefined;
      const claimed = await this.claim(next.job_id, workerId, leaseMs);
      if (claimed) return claimed;
    }
  }

  private async nextFairly(waiting: readonly string[]): Promise<{ job_id: number } | undefined> {
    const allowed = waiting.length === 0 ? sql`` : sql`AND name NOT IN ${inList(waiting)}`;
    const busy = (await this.db.all<{ client_id: string }>(sql`SELECT DISTINCT client_id FROM jobs WHERE status = 'running'`)).map((r) => r.client_id);
    if (busy.length > 0) {
      const ofIdleClient = await this.db.get<{ job_id: number }>(sql`SELECT job_id FROM jobs WHERE status = 'queued' ${allowed}
        AND client_id NOT IN ${inList(busy)} ORDER BY job_id LIMIT 1`);
      if (ofIdleClient) return ofIdleClient;
    }
    return this.db.get<{ job_id: number }>(sql`SELECT job_id FROM jobs WHERE status = 'queued' ${allowed} ORDER BY job_id LIMIT 1`);
  }

  /** Marks a job running for this worker if it is queued, or running under a lease that ran out; else undefined. */
  claim(jobId: number, workerId: string, leaseMs: number): Promise<JobRow | undefined> {
    const now = Date.now();
    return this.db.get<JobRow>(sql`UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ${nowIso()},
      worker_id = ${workerId}, lease_expires_at = ${now + leaseMs}
      WHERE job_id = ${jobId} AND (status = 'queued' OR (status = 'running' AND lease_expires_at < ${now})) RETURNING *`);
  }

  /** Extends the worker's lease; false when the job is no longer this worker's to run (cancelled, or taken over). */
  async renew(jobId: number, workerId: string, leaseMs: number): Promise<boolean> {
    return (await this.db.run(sql`UPDATE jobs SET lease_expires_at = ${Date.now() + leaseMs}
      WHERE job_id = ${jobId} AND worker_id = ${workerId} AND status = 'running'`)) > 0;
  }

  /** Running jobs whose worker stopped renewing their lease. */
  expired(): Promise<JobRow[]> {
    return this.db.all<JobRow>(sql`SELECT * FROM jobs WHERE status = 'running' AND lease_expires_at < ${Date.now()} ORDER BY job_id`);
  }

  async finish(jobId: number, status: 'done' | 'failed' | 'cancelled', error: string | null = null): Promise<void> {
    await this.db.run(sql`UPDATE jobs SET status = ${status}, error = ${error}, finished_at = ${nowIso()}, lease_expires_at = NULL
      WHERE job_id = ${jobId}`);
  }

  async requeue(jobId: number): Promise<void> {
    await this.db.run(sql`UPDATE jobs SET status = 'queued', started_at = NULL, worker_id = NULL, lease_expires_at = NULL
      WHERE job_id = ${jobId}`);
  }

  /** Jobs a previous process left running (it stopped or crashed mid-way). */
  interrupted(): Promise<JobRow[]> {
    return this.db.all<JobRow>(sql`SELECT * FROM jobs WHERE status = 'running' ORDER BY job_id`);
  }

  pending(): Promise<JobRow[]> {
    return this.db.all<JobRow>(sql`SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY job_id`);
  }
}
