import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { presentTarget } from '../services/targets.wire.ts';

const target = {
  type: 'object',
  properties: {
    target_id: { type: 'integer' }, name: { type: 'string' }, default: { type: 'boolean' },
    item_count: { type: 'integer' }, model_count: { type: 'integer' },
    mqtt: { type: ['object', 'null'], properties: { url: { type: 'string' }, topic: { type: 'string' } }, description: 'Where finished predictions are published' },
    created_at: { type: 'string' },
  },
};

/** Inspection targets (beyond): product lines of a client, each with its own items, models and active model. */
export function targetsRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.get('/api/v1/targets', {
    schema: { tags: ['targets'], summary: "The client's inspection targets, the default one first (beyond)", security: bearer, response: { 200: data({ type: 'array', items: target }), ...errors(401) } },
  }, async (request) => ({ data: (await kensa.targets.list(request.clientId)).map((target) => presentTarget(target, request.language)) }));

  app.post('/api/v1/targets', {
    schema: {
      tags: ['targets'], summary: 'Create an inspection target (beyond)', security: bearer,
      description: 'Items, models and the active model are kept per target; routes take `target` (its id or name). ' +
        '`mqtt_url` (optional) is the broker that receives its finished predictions, instead of the installation\'s KENSA_MQTT_URL.',
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, mqtt_url: { type: ['string', 'null'], maxLength: 2000 } },
      },
      response: { 200: data(target), ...errors(400, 401) },
    },
  }, async (request) => ({ data: presentTarget(await kensa.targets.create(request.clientId, request.body as { name: string; mqtt_url?: string | null }), request.language) }));

  app.delete('/api/v1/targets/:target', {
    schema: {
      tags: ['targets'], summary: 'Delete an empty inspection target (beyond)', security: bearer,
      description: 'The target is named by its id or name. Its items and models must be deleted first; the default target stays. ' +
        'A connection to its own MQTT broker is closed.',
      params: { type: 'object', properties: { target: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 404, 409) },
    },
  }, async (request) => {
    const { unusedBrokerUrl } = await kensa.targets.remove(request.clientId, (request.params as { target: string }).target);
    if (unusedBrokerUrl !== null) await kensa.mqtt.disconnect(unusedBrokerUrl);
    return { data: { status: 'ok' } };
  });
}
