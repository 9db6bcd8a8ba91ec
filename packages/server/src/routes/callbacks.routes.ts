import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { presentCallback, presentDelivery } from '../services/callbacks.wire.ts';

const callback = {
  type: 'object',
  properties: {
    callback_id: { type: 'integer' }, url: { type: 'string' }, created_at: { type: 'string' },
    model_id: { type: ['integer', 'null'], description: "Only this model's predictions; null: every model" },
    deliveries: { type: 'object', properties: { pending: { type: 'integer' }, delivered: { type: 'integer' }, failed: { type: 'integer' } } },
    secret: { type: 'string', description: 'Only in the answer to registration: key of the X-Kensa-Signature HMAC' },
  },
};

/** Prediction callbacks (beyond): URLs that receive each finished prediction, signed and retried. */
export function callbacksRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.post('/api/v1/callbacks', {
    schema: {
      tags: ['callbacks'],
      summary: 'Register a URL that receives each finished prediction (beyond)',
      description: 'POSTs `{event: "prediction.finished", item_id, target_id, model_id, finished_date, good, score, detected_objects, images}` with ' +
        '`X-Kensa-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>`, `X-Kensa-Delivery` (the delivery id) and `X-Kensa-Attempt`. ' +
        'Notifications wait in a persisted outbox and are retried after 1 s, 5 s, 30 s, 2 min, 10 min until a 2xx, across restarts.',
      security: bearer,
      body: {
        type: 'object', required: ['url'],
        properties: { url: { type: 'string', minLength: 1, maxLength: 2000 }, model_id: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+$' }, { type: 'null' }] } },
      },
      response: { 200: data(callback), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const body = request.body as { url: string; model_id?: number | string | null };
    const modelId = body.model_id === undefined || body.model_id === null ? null : Number(body.model_id);
    return { data: presentCallback(await kensa.callbacks.register(request.clientId, body.url, modelId), true) };
  });

  app.get('/api/v1/callbacks/:callback_id/deliveries', {
    schema: {
      tags: ['callbacks'], summary: 'The newest 100 deliveries of a callback with their state (beyond)', security: bearer,
      params: { type: 'object', properties: { callback_id: { type: 'string' } } },
      response: {
        200: data({
          type: 'array',
          items: {
            type: 'object',
            properties: {
              delivery_id: { type: 'integer' }, event: { type: ['string', 'null'] }, item_id: { type: ['string', 'null'] }, model_id: { type: ['integer', 'null'] },
              status: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'integer' }, last_status: { type: ['integer', 'null'] },
              last_error: { type: ['string', 'null'] }, next_attempt_at: { type: ['string', 'null'] }, created_at: { type: 'string' }, delivered_at: { type: ['string', 'null'] },
            },
          },
        }),
        ...errors(401, 404),
      },
    },
  }, async (request) => ({ data: (await kensa.callbacks.deliveries(request.clientId, (request.params as { callback_id: string }).callback_id)).map(presentDelivery) }));

  app.get('/api/v1/callbacks', {
    schema: { tags: ['callbacks'], summary: 'Registered callbacks (beyond)', security: bearer, response: { 200: data({ type: 'array', items: callback }), ...errors(401) } },
  }, async (request) => ({ data: (await kensa.callbacks.list(request.clientId)).map((callback) => presentCallback(callback, false)) }));

  app.delete('/api/v1/callbacks/:callback_id', {
    schema: {
      tags: ['callbacks'], summary: 'Remove a callback (beyond)', security: bearer,
      params: { type: 'object', properties: { callback_id: { type: 'string' } } },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 404) },
    },
  }, async (request) => {
    await kensa.callbacks.remove(request.clientId, (request.params as { callback_id: string }).callback_id);
    return { data: { status: 'ok' } };
  });
}
