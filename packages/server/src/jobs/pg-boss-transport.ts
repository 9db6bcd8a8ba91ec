import PgBoss from 'pg-boss';
import type { Database } from '../store/database.ts';
import type { JobRow } from '../store/jobs.repository.ts';
import { QUEUED_JOB_NAMES, type QueuedJobName } from './protocol.ts';
import type { JobTransport } from './queue.ts';

/** Messages that failed every retry end here, for a person to look at (`SELECT * FROM <schema>.job WHERE name = …`). */
const DEAD_LETTERS = 'kensa-dead-letters';

/**
 * Queued jobs through pg-boss on the installation's PostgreSQL (scale-out): storing a job sends a message in the
 * same transaction, and every worker process takes messages with SKIP LOCKED, so one message goes to one worker.
 * pg-boss retries a delivery that fails (with back-off), times out one that runs too long, and moves one that
 * failed every retry to a dead-letter queue. The message only names the job: the jobs table stays the truth,
 * and the job's lease (queue.ts) keeps it from running twice at once.
 */
export class PgBossTransport implements JobTransport {
  private constructor(private readonly boss: PgBoss, private readonly db: Database) {}

  static async open(connectionString: string, db: Database, schema: string): Promise<PgBossTransport> {
    const boss = new PgBoss({ connectionString, schema, max: 4 });
    boss.on('error', (error: Error) => process.stderr.write(`pg-boss: ${error.message}\n`));
    try {
      await boss.start();
      // Processes starting together would deadlock creating the same queues (pg-boss makes a partition for each):
      // one at a time, under a lock that our transaction holds until the queues exist.
      await db.transaction(async () => {
        await db.execute('SELECT pg_advisory_xact_lock(7428002)');
        await ensureQueue(boss, DEAD_LETTERS, {});
        for (const name of QUEUED_JOB_NAMES) {
          await ensureQueue(boss, queueName(name), {
            retryLimit: 3, retryDelay: 5, retryBackoff: true,
            // A delivery that outlives this is given up and retried; the job's lease decides whether it runs again.
            expireInSeconds: 6 * 3600,
            deadLetter: DEAD_LETTERS,
          });
        }
      });
    } catch (error) {
      await boss.stop({ graceful: false, wait: true, timeout: 1000 }).catch(() => {});
      throw error;
    }
    return new PgBossTransport(boss, db);
  }

  async announce(jobs: JobRow[]): Promise<void> {
    // In the caller's transaction: the message exists exactly when the job's row does.
    const inTransaction = { executeSql: (text: string, values: unknown[]) => this.db.execute(text, values) };
    for (const job of jobs) await this.boss.send(queueName(job.name), { jobId: job.job_id }, { db: inTransaction });
  }

  async listen(deliver: (jobId: number, name: QueuedJobName) => Promise<void>, capacity: number): Promise<void> {
    for (const name of QUEUED_JOB_NAMES) {
      // One fetch loop per free worker thread and kind of job, one message at a time.
      for (let i = 0; i < capacity; i++) {
        let workerId = '';
        workerId = await this.boss.work<{ jobId: number }>(queueName(name), { batchSize: 1, pollingIntervalSeconds: 1 }, async ([message]: PgBoss.Job<{ jobId: number }>[]) => {
          try {
            await deliver(message.data.jobId, name);
          } finally {
            // pg-boss waits out the polling interval after every fetch, even one that found work: a second per
            // prediction. Told that it found work, it fetches the next message at once.
            this.boss.notifyWorker(workerId);
          }
        });
      }
    }
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, timeout: 5000 });
  }
}

function queueName(name: string): string {
  return `kensa-${name}`;
}

async function ensureQueue(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<void> {
  if (!await boss.getQueue(name)) await boss.createQueue(name, { name, ...options });
}

/** pg-boss keeps its tables in a schema of its own, next to the installation's. */
export function bossSchemaOf(schema: string | null): string {
  return schema ? `${schema}_boss` : 'kensa_boss';
}
