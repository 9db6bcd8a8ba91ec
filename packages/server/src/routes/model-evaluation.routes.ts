import type { FastifyInstance } from 'fastify';
import type { Installation } from '../context.ts';
import { ApiError } from '../http/errors.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import type { TrainOutput } from '../jobs/protocol.ts';
import { inList, sql } from '../store/database.ts';
import { thumbnailTemplate } from './bulk-items.routes.ts';
import { chunks } from '../store/items.repository.ts';
import { ModelsRepository } from '../store/models.repository.ts';

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
export function modelEvaluationRoutes(app: FastifyInstance, kensa: Installation, publicUrl: string | null) {
  const models = new ModelsRepository(kensa.db);

  app.get('/api/v1/models/:model_id/evaluation', {
    schema: {
      tags: ['models'],
      summary: "A model's held-out images with their labels and scores (beyond)",
      description: 'Two-fold cross-fitting during training scores every labelled image with a model trained without it. ' +
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
    const model = await models.find(request.clientId, Number((request.params as { model_id: string }).model_id));
    if (!model) throw new ApiError(404, 'modelsNotFound');
    const evaluation = model.evaluation_json ? JSON.parse(model.evaluation_json) as TrainOutput['evaluation'] : null;
    const heldOut = evaluation?.heldOut ?? [];
    // Item ids of the images, of this client only.
    const itemOf = new Map<number, string>();
    const imageIds = heldOut.map((h) => h.imageId).filter((id): id is number => id !== null);
    for (const part of chunks(imageIds)) {
      const rows = await kensa.db.all<{ image_id: number; item_id: string }>(sql`SELECT im.image_id, it.item_id FROM images im
        JOIN items it ON it.pk = im.item_pk WHERE im.client_id = ${request.clientId} AND im.image_id IN ${inList(part)}`);
      for (const row of rows) itemOf.set(row.image_id, row.item_id);
    }
    return {
      data: {
        model_id: model.model_id,
        threshold: evaluation?.threshold ?? null,
        auroc: evaluation?.auroc ?? null,
        held_out: heldOut.map((h) => {
          const itemId = h.imageId === null ? undefined : itemOf.get(h.imageId);
          return { item_id: itemId ?? null, image_id: itemId === undefined ? null : h.imageId, good: h.good, score: h.score };
        }),
        thumbnail_url: await thumbnailTemplate(request, kensa, publicUrl),
      },
    };
  });
}
