import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { RunningContext } from '../context.ts';
import type { UploadLimits } from '../settings.ts';
import { ApiError, message } from '../http/errors.ts';
import { formBoolean, receiveFiles, removeTemporary } from '../http/multipart.ts';
import { bearer, data, errors, ref } from '../http/schemas.ts';
import { inspectHeatmapUrls, urlBuilder } from '../http/urls.ts';
import type { AnnotationInput } from '../services/items.service.ts';
import { presentItemDetail, presentItemPage } from '../services/items.wire.ts';
import { MEDIA_TOKEN_ROUTE } from '../http/authentication.ts';

const flag = (value: string | undefined, fallback: boolean) => (value === undefined ? fallback : !['false', '0', 'no'].includes(value.toLowerCase()));

/** `publicUrl`: KENSA_PUBLIC_URL, the start of every image URL in answers when set. */
export function itemsRoutes(app: FastifyInstance, kensa: RunningContext, limits: UploadLimits, publicUrl: string | null) {
  app.get('/api/v1/items', {
    schema: {
      tags: ['items'],
      summary: 'Training, predict and archived items with a summary',
      security: bearer,
      querystring: {
        type: 'object',
        properties: {
          target: { type: 'string', maxLength: 200, description: 'Target id or name (beyond); default: the default target' },
          status: { type: 'string', enum: ['pending', 'done'] },
          limit: { type: 'string', pattern: '^[1-9][0-9]{0,5}$', description: 'Items per page (beyond)' },
          cursor: { type: 'string', pattern: '^[0-9]+$', description: 'next_cursor of the previous page (beyond)' },
        },
      },
      response: {
        200: data({
          type: 'object',
          properties: {
            training: { type: 'array', items: ref('Item') }, predict: { type: 'array', items: ref('Item') },
            archived: { type: 'array', items: ref('Item') }, summary: ref('Summary'), next_cursor: { type: ['string', 'null'] },
          },
        }),
        ...errors(400, 401, 404),
      },
    },
  }, async (request) => {
    const query = request.query as { target?: string; status?: 'pending' | 'done'; limit?: string; cursor?: string };
    const page = await kensa.items.list(request.clientId, {
      target: query.target, status: query.status, limit: query.limit === undefined ? undefined : Number(query.limit), cursor: query.cursor,
    });
    return { data: presentItemPage(page, await urlBuilder(request, kensa, publicUrl), request.language) };
  });

  app.get('/api/v1/item/:item_id', {
    schema: {
      tags: ['items'],
      summary: 'One item with its images, annotations and assessments',
      security: bearer,
      params: { type: 'object', properties: { item_id: { type: 'string' } } },
      querystring: { type: 'object', properties: { show_annotations: { type: 'string' }, show_assessments: { type: 'string' } } },
      response: { 200: data(ref('ItemDetail')), ...errors(401, 404) },
    },
  }, async (request) => {
    const { item_id } = request.params as { item_id: string };
    const query = request.query as { show_annotations?: string; show_assessments?: string };
    const detail = await kensa.items.detail(request.clientId, item_id);
    return {
      data: presentItemDetail(detail, await urlBuilder(request, kensa, publicUrl), request.language, {
        annotations: flag(query.show_annotations, true), assessments: flag(query.show_assessments, true),
      }),
    };
  });

  app.post('/api/v1/upload', {
    schema: {
      tags: ['items'],
      summary: 'Upload images: multipart files[0], files[1], …; fields training, good, item_id, target',
      description: `Each file becomes an item named after the file (without extension), unless item_id puts them all in one item. ` +
        `Types are checked by content (PNG, JPEG, TIFF, BMP, WebP). Limits: ${limits.maxFilesPerRequest} files per request, ` +
        `${Math.round(limits.maxFileBytes / 1e6)} MB per file, ${Math.round(limits.maxPixels / 1e6)} MP per image. A refused upload stores nothing.`,
      consumes: ['multipart/form-data'],
      security: bearer,
      response: { 200: data({ type: 'object', properties: { item_ids: { type: 'array', items: { type: 'string' } } } }), ...errors(400, 401, 413) },
    },
  }, async (request) => {
    const { files, fields } = await receiveFiles(request, kensa, limits);
    try {
      const training = formBoolean(fields, 'training') ?? false;
      const good = formBoolean(fields, 'good');
      const itemId = fields.item_id ? fields.item_id : null;
      const targetId = (await kensa.targets.resolve(request.clientId, fields.target)).target_id;
      return { data: { item_ids: await kensa.items.upload(request.clientId, files, { training, good, itemId, targetId }) } };
    } finally {
      await removeTemporary(kensa, files);
    }
  });

  app.patch('/api/v1/item/:item_id', {
    schema: {
      tags: ['items'],
      summary: 'Review or archive an item (beyond)',
      description: '`good` confirms the verdict (the same value) or overrides it; on a training item it sets the label. `archived` moves the item to or from the archive.',
      security: bearer,
      params: { type: 'object', properties: { item_id: { type: 'string' } } },
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { good: { type: 'boolean' }, archived: { type: 'boolean' } } },
      response: { 200: data(ref('ItemDetail')), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const { item_id } = request.params as { item_id: string };
    const change = request.body as { good?: boolean; archived?: boolean };
    const detail = await kensa.items.review(request.clientId, item_id, change);
    return { data: presentItemDetail(detail, await urlBuilder(request, kensa, publicUrl), request.language, { annotations: true, assessments: true }) };
  });

  app.delete('/api/v1/item/:item_id', {
    schema: {
      tags: ['items'],
      summary: 'Delete an item with its images and results (beyond)',
      security: bearer,
      params: { type: 'object', properties: { item_id: { type: 'string' } } },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 404) },
    },
  }, async (request) => {
    await kensa.items.remove(request.clientId, (request.params as { item_id: string }).item_id);
    return { data: { status: 'ok' } };
  });

  app.post('/api/v1/inspect', {
    schema: {
      tags: ['items'],
      summary: 'Synchronous inspection (beyond): multipart files[0]…, optional model_id, target, heatmap=true, store=true; results in the answer',
      description: 'Nothing is stored unless `store` is `true`; then the files also become predict items, predicted in the background with the same model. '
        + 'Heatmaps are rendered only with `heatmap=true` or `store=true` (otherwise `heatmap_url` is null); `heatmap_url` is then a signed URL '
        + 'of a PNG the size of the image, kept in memory for 15 minutes.',
      consumes: ['multipart/form-data'],
      security: bearer,
      response: {
        200: data({
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  file_name: { type: 'string' }, good: { type: 'boolean' }, score: { type: 'number' }, label: { type: 'string' },
                  detected_objects: { type: 'integer' }, detection_accuracy: { type: 'number' },
                  boxes: { type: 'array', items: { type: 'object', properties: { x_min: { type: 'number' }, x_max: { type: 'number' }, y_min: { type: 'number' }, y_max: { type: 'number' }, score: { type: 'number' } } } },
                  heatmap_url: { type: ['string', 'null'] },
                },
              },
            },
            model_id: { type: 'integer' },
            model_version: { type: 'string' },
          },
        }),
        ...errors(400, 401, 403, 413),
      },
    },
  }, async (request) => {
    const { files, fields } = await receiveFiles(request, kensa, limits);
    try {
      const inspectRequest = {
        modelId: fields.model_id ?? null, target: fields.target ?? null,
        store: (fields.store ?? '').toLowerCase() === 'true', heatmaps: formBoolean(fields, 'heatmap') === true,
      };
      return { data: await kensa.inspection.inspect(request.clientId, files, inspectRequest, () => inspectHeatmapUrls(request, kensa, publicUrl)) };
    } finally {
      await removeTemporary(kensa, files);
    }
  });

  app.get('/api/v1/images/inspect/:heatmap_id', {
    ...MEDIA_TOKEN_ROUTE,
    schema: {
      tags: ['items'],
      summary: 'The heatmap PNG of a synchronous inspection (beyond), for 15 minutes after it',
      description: 'Needs the bearer token or the signed `token` query parameter that `heatmap_url` carries.',
      security: bearer,
      params: { type: 'object', properties: { heatmap_id: { type: 'string', maxLength: 64 } } },
      querystring: { type: 'object', properties: { token: { type: 'string' } } },
      response: { 200: { description: 'The PNG bytes', type: 'string', format: 'binary' }, ...errors(401, 404) },
    },
  }, async (request, reply) => {
    const png = await kensa.inspection.heatmap(request.clientId, (request.params as { heatmap_id: string }).heatmap_id);
    if (!png) throw new ApiError(404, 'imageNotFound');
    reply.header('content-type', 'image/png').header('cache-control', 'private, max-age=900');
    return reply.send(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  });

  app.post('/api/v1/image/:image_id/annotation', {
    schema: {
      tags: ['items'],
      summary: "Replace an image's annotation boxes (pixels of the original image)",
      security: bearer,
      params: { type: 'object', properties: { image_id: { type: 'string' } } },
      body: {
        type: 'object',
        required: ['annotations'],
        properties: {
          annotations: {
            type: 'array',
            maxItems: 1000,
            items: {
              type: 'object',
              required: ['x_min', 'x_max', 'y_min', 'y_max'],
              properties: {
                x_min: { type: 'number' }, x_max: { type: 'number' }, y_min: { type: 'number' }, y_max: { type: 'number' },
                notes: { type: ['string', 'null'], maxLength: 2000 },
              },
            },
          },
        },
      },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const { image_id } = request.params as { image_id: string };
    const { annotations } = request.body as { annotations: AnnotationInput[] };
    await kensa.items.annotate(request.clientId, /^\d+$/.test(image_id) ? Number(image_id) : NaN, annotations);
    return { data: { status: 'ok' } };
  });

  app.get('/api/v1/images/:image_id/:kind', {
    ...MEDIA_TOKEN_ROUTE,
    schema: {
      tags: ['items'],
      summary: 'Image files: raw (the upload), thumbnail, overlay (green boxes), heatmap',
      description: 'Needs the bearer token or the signed `token` query parameter that the URLs in answers carry.',
      security: bearer,
      params: { type: 'object', properties: { image_id: { type: 'string' }, kind: { type: 'string', enum: ['raw', 'thumbnail', 'overlay', 'heatmap'] } } },
      querystring: { type: 'object', properties: { model_id: { type: 'string' }, token: { type: 'string' } } },
      response: { 200: { description: 'The image bytes', type: 'string', format: 'binary' }, ...errors(401, 404) },
    },
  }, async (request, reply) => {
    const { image_id, kind } = request.params as { image_id: string; kind: 'raw' | 'thumbnail' | 'overlay' | 'heatmap' };
    const { model_id } = request.query as { model_id?: string };
    const file = await kensa.items.imageFile(request.clientId, /^\d+$/.test(image_id) ? Number(image_id) : NaN, kind,
      model_id !== undefined && /^\d+$/.test(model_id) ? Number(model_id) : null);
    const bytes = await kensa.files.read(file.key).catch(() => null);
    if (!bytes) throw new ApiError(404, 'imageNotFound');
    reply.header('content-type', file.contentType).header('content-length', bytes.length).header('cache-control', 'private, max-age=3600');
    return reply.send(bytes);
  });
}
