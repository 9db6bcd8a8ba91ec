import type { FastifyInstance } from 'fastify';
import type { Installation } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { sql } from '../store/database.ts';

const preferences = { type: 'object', properties: { target_id: { type: ['integer', 'null'], description: 'The product line last chosen; null: none yet' } } };

/**
 * A client's preferences (beyond): the product line the web UI last showed, so that a new browser or a colleague
 * signed in as the same client starts where the work is. Kept in the installation's `settings` table (one row per
 * client), which every API server of a scale-out installation shares.
 */
export function preferencesRoutes(app: FastifyInstance, kensa: Installation) {
  const key = (clientId: string) => `preferences:${clientId}`;

  const read = async (clientId: string): Promise<{ target_id: number | null }> => {
    const row = await kensa.db.get<{ value: string }>(sql`SELECT value FROM settings WHERE name = ${key(clientId)}`);
    const stored = row ? (JSON.parse(row.value) as { target_id?: number | null }) : {};
    // A product line that is gone (or never was this client's) is no preference.
    const targetId = typeof stored.target_id === 'number' && await kensa.targets.resolve(clientId, stored.target_id).then(() => true, () => false) ? stored.target_id : null;
    return { target_id: targetId };
  };

  app.get('/api/v1/preferences', {
    schema: { tags: ['targets'], summary: "The client's preferences: the product line last chosen (beyond)", security: bearer, response: { 200: data(preferences), ...errors(401) } },
  }, async (request) => ({ data: await read(request.clientId) }));

  app.put('/api/v1/preferences', {
    schema: {
      tags: ['targets'], summary: "Remember the client's product line (beyond)", security: bearer,
      body: { type: 'object', required: ['target_id'], additionalProperties: false, properties: { target_id: { type: ['integer', 'null'], minimum: 1 } } },
      response: { 200: data(preferences), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const { target_id: targetId } = request.body as { target_id: number | null };
    // Only a target of this client (404 otherwise).
    if (targetId !== null) await kensa.targets.resolve(request.clientId, targetId);
    const value = JSON.stringify({ target_id: targetId });
    await kensa.db.run(sql`INSERT INTO settings (name, value) VALUES (${key(request.clientId)}, ${value})
      ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
    return { data: { target_id: targetId } };
  });
}
