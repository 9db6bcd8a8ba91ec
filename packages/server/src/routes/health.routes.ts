import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { data, errors } from '../http/schemas.ts';
import { SERVER_VERSION } from '../version.ts';
import { PUBLIC_ROUTE } from '../http/authentication.ts';

/**
 * GET /api/health, without a token: for load balancers, process supervisors and monitoring. 200 while the
 * database answers, with the job backlog (a growing `oldest_queued_seconds` means too few workers) and whether
 * events from other processes arrive; 503 otherwise.
 */
export function healthRoutes(app: FastifyInstance, kensa: ServerContext) {
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
    const { database, events, jobs } = await kensa.health.report();
    return {
      data: {
        status: 'ok',
        version: SERVER_VERSION,
        database,
        events,
        jobs: { queued: jobs.queued, running: jobs.running, oldest_queued_seconds: jobs.oldestQueuedSeconds },
      },
    };
  });
}
