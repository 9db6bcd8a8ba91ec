import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import { publicBaseOf } from '../http/public-url.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { MAX_BULK_ITEMS, MAX_ROWS_LIMIT, type BulkChange } from '../services/bulk-items.service.ts';
import { presentItemRow } from '../services/items.wire.ts';

const targetRef = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', minLength: 1, maxLength: 200 }], description: 'Target id or name' };

const rowSchema = {
  type: 'object',
  properties: {
    item_id: { type: 'string' }, target_id: { type: 'integer' }, tab: { type: 'string', enum: ['training', 'predict', 'archived'] },
    is_training_data: { type: 'boolean' },
    verdict: { type: 'string', enum: ['good', 'defect', 'unlabelled', 'OK', 'NG', 'pending'], description: "Training label, or the prediction (a person's review first)" },
    status: { type: 'string', enum: ['pending', 'done'] }, prediction_failed: { type: 'boolean' },
    reviewed: { type: 'boolean', description: 'A person confirmed or overrode the verdict' }, overridden: { type: 'boolean' },
    created_at: { type: 'string' }, finished_date: { type: ['string', 'null'] }, image_id: { type: ['integer', 'null'] },
    results: {
      type: 'array',
      description: "Each model's result, oldest prediction first: NG when any image is, the highest image score",
      items: {
        type: 'object',
        properties: { model_id: { type: 'integer' }, good: { type: 'boolean' }, score: { type: 'number' }, threshold: { type: 'number' }, finished_date: { type: 'string' } },
      },
    },
  },
};

/** A signed thumbnail URL with `{image_id}` to replace: one token for a whole list instead of one per row. */
export async function thumbnailTemplate(request: FastifyRequest, kensa: ServerContext, publicUrl: string | null): Promise<string> {
  const token = encodeURIComponent(await kensa.auth.mediaToken(request.clientId));
  return `${publicBaseOf(request, publicUrl)}/api/v1/images/{image_id}/thumbnail?token=${token}`;
}

/**
 * The items page at factory scale (beyond): compact rows of a target's items to filter and draw by the ten
 * thousand, and one change (label, archive, restore, move) applied to many items at once.
 */
export function bulkItemsRoutes(app: FastifyInstance, kensa: ServerContext, publicUrl: string | null) {
  app.get('/api/v1/items/rows', {
    schema: {
      tags: ['items'],
      summary: "A target's items as compact rows, in upload order (beyond)",
      description: 'Verdict, each model\'s score, review state and dates per item, for lists of thousands. `limit` (default 2000, at most ' +
        `${MAX_ROWS_LIMIT}) rows per page; \`next_cursor\` (null on the last page) is the \`cursor\` of the next. \`thumbnail_url\` is a ` +
        'signed URL with `{image_id}` to replace by a row\'s `image_id`.',
      security: bearer,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          target: { type: 'string', maxLength: 200, description: 'Target id or name; default: the default target' },
          limit: { type: 'string', pattern: '^[1-9][0-9]{0,4}$' },
          cursor: { type: 'string', pattern: '^[0-9]{1,15}$' },
        },
      },
      response: {
        200: data({
          type: 'object',
          properties: { target_id: { type: 'integer' }, rows: { type: 'array', items: rowSchema }, next_cursor: { type: ['string', 'null'] }, thumbnail_url: { type: 'string' } },
        }),
        ...errors(400, 401, 404),
      },
    },
  }, async (request) => {
    const query = request.query as { target?: string; limit?: string; cursor?: string };
    const page = await kensa.bulkItems.rows(request.clientId, { target: query.target, limit: query.limit === undefined ? undefined : Number(query.limit), cursor: query.cursor });
    const rows = page.items.map(({ item, imageId, results }) => presentItemRow(item, imageId, results));
    return { data: { target_id: page.target_id, rows, next_cursor: page.next_cursor, thumbnail_url: await thumbnailTemplate(request, kensa, publicUrl) } };
  });

  app.post('/api/v1/items/bulk', {
    schema: {
      tags: ['items'],
      summary: 'Label, archive, restore or move many items at once (beyond)',
      description: '`label`: `good` true (OK) / false (NG) sets a training item\'s label, or reviews a predicted item as PATCH /item does; ' +
        'null makes a training item unlabelled and takes a review back. `move`: to `target` (id or name). All or nothing: an id that is ' +
        'not the client\'s refuses the request (404) and nothing changes.',
      security: bearer,
      body: {
        type: 'object',
        required: ['item_ids', 'action'],
        additionalProperties: false,
        properties: {
          item_ids: { type: 'array', minItems: 1, maxItems: MAX_BULK_ITEMS, items: { type: 'string', minLength: 1, maxLength: 255 } },
          action: { type: 'string', enum: ['label', 'archive', 'restore', 'move'] },
          good: { type: ['boolean', 'null'] },
          target: targetRef,
        },
        allOf: [
          { if: { properties: { action: { const: 'label' } } }, then: { required: ['good'] } },
          { if: { properties: { action: { const: 'move' } } }, then: { required: ['target'] } },
        ],
      },
      response: { 200: data({ type: 'object', properties: { changed: { type: 'integer' } } }), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const body = request.body as { item_ids: string[]; action: BulkChange['action']; good?: boolean | null; target?: string | number };
    const change: BulkChange = body.action === 'label' ? { action: 'label', good: body.good ?? null }
      : body.action === 'move' ? { action: 'move', target: body.target! }
      : { action: body.action };
    return { data: await kensa.bulkItems.apply(request.clientId, body.item_ids, change) };
  });
}
