import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, errors } from '../http/schemas.ts';
import { render } from '../i18n/index.ts';
import { MEDIA_TOKEN_ROUTE } from '../http/authentication.ts';

const HEARTBEAT_MS = 15_000;

/**
 * GET /v1/events (beyond): server-sent events of the client's jobs — `model` (status, progress, status_text)
 * and `item` (pending/done). Bearer token, or the signed `?token=` of image URLs since EventSource sends no headers.
 */
export function eventsRoutes(app: FastifyInstance, kensa: ServerContext) {
  const open = new Set<ServerResponse>();
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    for (const response of open) response.end();
  });

  app.get('/api/v1/events', {
    ...MEDIA_TOKEN_ROUTE,
    schema: {
      tags: ['models'],
      summary: 'Job progress as server-sent events (beyond): events "model" and "item"',
      security: bearer,
      querystring: { type: 'object', properties: { token: { type: 'string' } } },
      response: { 200: { description: 'text/event-stream', type: 'string' }, ...errors(401) },
    },
  }, (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write(': connected\n\n');
    open.add(response);
    const unsubscribe = kensa.events.subscribe(request.clientId, (event) => {
      const { clientId: _owner, ...payload } = event;
      const data = payload.type === 'model' ? { ...payload, status_text: payload.status_text ? render(request.language, payload.status_text) : null } : payload;
      response.write(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    const heartbeat = setInterval(() => response.write(': ping\n\n'), HEARTBEAT_MS);
    response.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(response);
    });
  });
}
