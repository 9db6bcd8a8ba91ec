import type { FastifyInstance } from 'fastify';
import type { Installation } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';

const callback = {
  type: 'object',
  properties: {
    callback_id: { type: 'integer' }, url: { type: 'string' }, created_at: { type: 'string' },
    secret: { type: 'string', description: 'Only in the answer to registration: key of the X-Kensa-Signature HMAC' },
  },
};

/** Prediction callbacks (beyond): URLs that receive each finished prediction, signed and retried. */
export function callbacksRoutes(app: FastifyInstance, kensa: Installation) {
  app.post('/api/v1/callbacks', {
    schema: {
      tags: ['callbacks'],
      summary: 'Register a URL that receives each finished prediction (beyond)',
      description: 'POSTs `{event: "prediction.finished", item_id, model_id, finished_date, good, detected_objects, images}` with ' +
        '`X-Kensa-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>`; retried 3 times (1 s, 5 s, 30 s) until a 2xx.',
      security: bearer,
      body: { type: 'object', required: ['url'], properties: { url: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: { 200: data(callback), ...errors(400, 401) },
    },
  }, async (request) => ({ data: kensa.callbacks.register(request.clientId, (request.body as { url: string }).url) }));

  app.get('/api/v1/callbacks', {
    schema: { tags: ['callbacks'], summary: 'Registered callbacks (beyond)', security: bearer, response: { 200: data({ type: 'array', items: callback }), ...errors(401) } },
  }, async (request) => ({ data: kensa.callbacks.list(request.clientId) }));

  app.delete('/api/v1/callbacks/:callback_id', {
    schema: {
      tags: ['callbacks'], summary: 'Remove a callback (beyond)', security: bearer,
      params: { type: 'object', properties: { callback_id: { type: 'string' } } },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 404) },
    },
  }, async (request) => {
    kensa.callbacks.remove(request.clientId, (request.params as { callback_id: string }).callback_id);
    return { data: { status: 'ok' } };
  });
}
