import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { thumbnailTemplate } from './bulk-items.routes.ts';

const heldOutSchema = {
  type: 'object',
  properties: {
    item_id: { type: ['string', 'null'], description: 'Null when the image was deleted since, or for a tile' },
    image_id: { type: ['integer', 'null'] },
    good: { type: 'boolean', description: 'Its training label: true OK, false NG' },
    score: { type: 'number' },
  },
};

/**
 * A model's evaluation on its held-out images (beyond): every image training held out, with its label and the score a
 * model that never saw it gave it — what ROC and precision–recall curves, a confusion matrix at any threshold and
 * the worst misses are drawn from.
 */
export function modelEvaluationRoutes(app: FastifyInstance, kensa: ServerContext, publicUrl: string | null) {
  app.get('/api/v1/models/:model_id/evaluation', {
    schema: {
      tags: ['models'],
      summary: "A model's held-out images with their labels and scores (beyond)",
      description: 'Two-fold cross-fitting during training scores each labelled image with a model trained without it (all of them up to ' +
        '500 per label; beyond that, a seeded draw of 500 per label). ' +
        '`held_out` is empty for models trained on too few images to hold any out, or before these scores were kept. ' +
        '`thumbnail_url` is a signed URL with `{image_id}` to replace.',
      security: bearer,
      params: { type: 'object', properties: { model_id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      response: {
        200: data({
          type: 'object',
          properties: {
            model_id: { type: 'integer' }, threshold: { type: ['number', 'null'] }, auroc: { type: ['number', 'null'] },
            held_out: { type: 'array', items: heldOutSchema }, thumbnail_url: { type: 'string' },
          },
        }),
        ...errors(400, 401, 404),
      },
    },
  }, async (request) => {
    const { modelId, evaluation, itemOfImage } = await kensa.modelEvaluation.heldOut(request.clientId, Number((request.params as { model_id: string }).model_id));
    return {
      data: {
        model_id: modelId,
        threshold: evaluation?.threshold ?? null,
        auroc: evaluation?.auroc ?? null,
        held_out: (evaluation?.heldOut ?? []).map((h) => {
          const itemId = h.imageId === null ? undefined : itemOfImage.get(h.imageId);
          return { item_id: itemId ?? null, image_id: itemId === undefined ? null : h.imageId, good: h.good, score: h.score };
        }),
        thumbnail_url: await thumbnailTemplate(request, kensa, publicUrl),
      },
    };
  });
}
