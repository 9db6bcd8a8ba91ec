import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';

const preferences = { type: 'object', properties: { target_id: { type: ['integer', 'null'], description: 'The product line last chosen; null: none yet' } } };

/** A client's preferences (beyond): the product line the web UI last showed (see PreferencesService). */
export function preferencesRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.get('/api/v1/preferences', {
    schema: { tags: ['targets'], summary: "The client's preferences: the product line last chosen (beyond)", security: bearer, response: { 200: data(preferences), ...errors(401) } },
  }, async (request) => ({ data: await kensa.preferences.get(request.clientId) }));

  app.put('/api/v1/preferences', {
    schema: {
      tags: ['targets'], summary: "Remember the client's product line (beyond)", security: bearer,
      body: { type: 'object', required: ['target_id'], additionalProperties: false, properties: { target_id: { type: ['integer', 'null'], minimum: 1 } } },
      response: { 200: data(preferences), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const { target_id: targetId } = request.body as { target_id: number | null };
    return { data: await kensa.preferences.set(request.clientId, { target_id: targetId }) };
  });
}
