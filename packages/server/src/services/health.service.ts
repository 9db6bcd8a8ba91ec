import { ApiError, message } from '../http/errors.ts';
import type { DatabaseKind } from '../store/database.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { EventsService } from './events.service.ts';

/** What GET /health reports: which database, how events arrive, and the job backlog. */
export interface HealthReport {
  database: DatabaseKind;
  events: EventsService['delivery'];
  jobs: { queued: number; running: number; oldestQueuedSeconds: number | null };
}

/** Whether the installation can work: its database answers (503 otherwise), and how far behind its workers are. */
export class HealthService {
  constructor(private readonly databaseKind: DatabaseKind, private readonly jobs: JobsRepository, private readonly events: EventsService) {}

  async report(): Promise<HealthReport> {
    let backlog: Awaited<ReturnType<JobsRepository['backlog']>>;
    try {
      backlog = await this.jobs.backlog();
    } catch (error) {
      throw new ApiError(503, 'serviceUnavailable', message('databaseUnavailable', { reason: error instanceof Error ? error.message : String(error) }));
    }
    const oldestQueuedSeconds = backlog.oldestQueuedAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(backlog.oldestQueuedAt)) / 1000));
    return { database: this.databaseKind, events: this.events.delivery, jobs: { queued: backlog.queued, running: backlog.running, oldestQueuedSeconds } };
  }
}
