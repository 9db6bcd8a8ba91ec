import type { FastifyInstance } from 'fastify';
import type { Installation } from '../context.ts';
import { ApiError, message } from '../http/errors.ts';
import { data, errors } from '../http/schemas.ts';
import { JobsRepository } from '../store/jobs.repository.ts';
import { SERVER_VERSION } from '../version.ts';
import { PUBLIC_ROUTE } from '../http/authentication.ts';

/**
 * GET /api/health, without a token: for load balancers, process supervisors and monitoring. 200 while the
 * database answers, with the job backlog (a growing `oldest_queued_seconds` means too few workers) and whether
 * events from other processes arrive; 503 otherwise.
 */
export function healthRoutes(app: FastifyInstance, kensa: Installation) {
  const jobs = new JobsRepository(kensa.db);
  app.get('/api/health', {
    ...PUBLIC_ROUTE,
    schema: {
      tags: ['health'],
      summary: 'Health: the database answers; jobs waiting and running',
      response: {
        200: data({
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ok'] },
            version: { type: 'string' },
            database: { type: 'string', enum: ['sqlite', 'postgres'] },
            events: { type: 'string', enum: ['local', 'connected', 'reconnecting'], description: 'how job events reach this server: within the process, or by PostgreSQL (reconnecting: events from other processes are missed until it is back)' },
            jobs: {
              type: 'object',
              properties: { queued: { type: 'integer' }, running: { type: 'integer' }, oldest_queued_seconds: { type: ['number', 'null'] } },
            },
          },
        }),
        ...errors(503),
      },
    },
  }, async () => {
    let backlog: Awaited<ReturnType<JobsRepository['backlog']>>;
    try {
      backlog = await jobs.backlog();
    } catch (error) {
      throw new ApiError(503, 'serviceUnavailable', message('databaseUnavailable', { reason: error instanceof Error ? error.message : String(error) }));
    }
    const oldestQueuedSeconds = backlog.oldestQueuedAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(backlog.oldestQueuedAt)) / 1000));
    return {
      data: {
        status: 'ok',
        version: SERVER_VERSION,
        database: kensa.db.kind,
        events: kensa.events.delivery,
        jobs: { queued: backlog.queued, running: backlog.running, oldest_queued_seconds: oldestQueuedSeconds },
      },
    };
  });
}
