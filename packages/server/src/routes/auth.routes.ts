import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { data, errors } from '../http/schemas.ts';
import { SERVER_VERSION } from '../version.ts';
import { PUBLIC_ROUTE } from '../http/authentication.ts';

/** POST /api/auth/token and GET /api/auth/app_version: the two routes without a token. */
export function authRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.post('/api/auth/token', {
    ...PUBLIC_ROUTE,
    schema: {
      tags: ['auth'],
      summary: 'Exchange client credentials for an access token (30 days)',
      body: {
        type: 'object',
        required: ['client_id', 'client_secret'],
        properties: {
          client_id: { type: 'string', minLength: 1, maxLength: 200 },
          client_secret: { type: 'string', minLength: 1, maxLength: 1000 },
          grant_type: { type: 'string', enum: ['client_credentials'] },
        },
      },
      response: { 200: data({ type: 'object', properties: { access_token: { type: 'string' }, expires: { type: 'integer' } } }), ...errors(400, 401) },
    },
  }, async (request) => {
    const body = request.body as { client_id: string; client_secret: string };
    return { data: await kensa.auth.issueToken(body.client_id, body.client_secret) };
  });

  app.get('/api/auth/app_version', {
    ...PUBLIC_ROUTE,
    schema: { tags: ['auth'], summary: 'Server version', response: { 200: data({ type: 'string' }) } },
  }, async () => ({ data: SERVER_VERSION }));
}
