import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { ApiError, message } from '../http/errors.ts';
import type { RunningContext } from '../context.ts';
import { bearer, data, errors, ref } from '../http/schemas.ts';
import { formBoolean, receiveFiles, removeTemporary } from '../http/multipart.ts';
import { urlBuilder } from '../http/urls.ts';
import { listAlgorithms, type ParameterOverride } from '../services/algorithm-catalogue.ts';
import { presentModel } from '../services/models.wire.ts';
import type { ServeRequest } from '../services/prediction.service.ts';
import type { TrainRequest } from '../services/training.service.ts';

const id = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+$' }] };

/** Model files can be large (memory banks); they are streamed to disk like uploads. */
const MAX_MODEL_FILE_BYTES = 2_000_000_000;

/** `publicUrl`: KENSA_PUBLIC_URL, the start of the image URLs in model answers when set. */
export function modelsRoutes(app: FastifyInstance, kensa: RunningContext, publicUrl: string | null) {
  app.get('/api/v1/algorithms', {
    schema: {
      tags: ['models'], summary: 'Algorithms with their parameters, defaults, ranges and AutoTune candidates', security: bearer,
      response: { 200: data({ type: 'array', items: ref('Algorithm') }), ...errors(401, 404) },
    },
  }, async (request) => ({ data: listAlgorithms(request.language) }));

  app.get('/api/v1/models', {
    schema: {
      tags: ['models'], summary: "The client's models (all, or one target's)", security: bearer,
      querystring: { type: 'object', properties: { target: { type: 'string', maxLength: 200, description: 'Target id or name (beyond)' } } },
      response: { 200: data({ type: 'array', items: ref('Model') }), ...errors(401, 404) },
    },
  }, async (request) => {
    const models = await kensa.models.list(request.clientId, (request.query as { target?: string }).target);
    const urls = await urlBuilder(request, kensa, publicUrl);
    return { data: models.map((m) => presentModel(m, request.language, urls)) };
  });

  app.get('/api/v1/models/:model_id', {
    schema: {
      tags: ['models'], summary: 'One model with its stats and evaluation (beyond)', security: bearer,
      params: { type: 'object', properties: { model_id: { type: 'string' } } },
      response: { 200: data(ref('Model')), ...errors(401, 404) },
    },
  }, async (request) => {
    const model = await kensa.models.get(request.clientId, (request.params as { model_id: string }).model_id);
    return { data: presentModel(model, request.language, await urlBuilder(request, kensa, publicUrl)) };
  });

  app.patch('/api/v1/models/:model_id', {
    schema: {
      tags: ['models'],
      summary: 'Change prediction parameters without retraining (beyond): threshold, min_detected_area, ignore_outer, …',
      description: 'Only parameters with `model_parameter: false`; the others name a 400. Later predictions use the new values.',
      security: bearer,
      params: { type: 'object', properties: { model_id: { type: 'string' } } },
      body: {
        type: 'object',
        required: ['override_params'],
        properties: {
          override_params: {
            type: 'array', minItems: 1, maxItems: 100,
            items: { type: 'object', required: ['algorithm_parameter_id', 'value'], properties: { algorithm_parameter_id: id, value: {} } },
          },
        },
      },
      response: { 200: data(ref('Model')), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const { override_params } = request.body as { override_params: ParameterOverride[] };
    const model = await kensa.models.updatePrediction(request.clientId, (request.params as { model_id: string }).model_id, override_params);
    return { data: presentModel(model, request.language, await urlBuilder(request, kensa, publicUrl)) };
  });

  app.post('/api/v1/models/:model_id/export', {
    schema: {
      tags: ['models'], summary: 'The model as one portable file (beyond), signed with this installation\'s Ed25519 key', security: bearer,
      params: { type: 'object', properties: { model_id: { type: 'string' } } },
      response: { 200: { description: 'application/octet-stream', type: 'string', format: 'binary' }, ...errors(400, 401, 404) },
    },
  }, async (request, reply) => {
    const file = await kensa.models.exportFile(request.clientId, (request.params as { model_id: string }).model_id);
    const stored = await kensa.files.read(file.key).catch(() => null);
    if (!stored) throw new ApiError(404, 'modelsNotFound');
    const bytes = await kensa.modelSignatures.sign(stored);
    reply.header('content-type', 'application/octet-stream').header('content-length', bytes.length)
      .header('content-disposition', `attachment; filename="${file.fileName}"`);
    return reply.send(bytes);
  });

  app.post('/api/v1/models/import', {
    schema: {
      tags: ['models'], summary: 'Install a model file made by export (beyond): multipart field "model"', security: bearer,
      description: 'The file\'s signature is checked: a file changed after export is refused; a file that is unsigned or signed by another installation is refused unless the form field `trust` is `true` (you trust where it comes from).',
      consumes: ['multipart/form-data'],
      response: { 200: data(ref('Model')), ...errors(400, 401, 403, 413) },
    },
  }, async (request) => {
    const { files, fields } = await receiveFiles(request, kensa, { maxFileBytes: MAX_MODEL_FILE_BYTES, maxFilesPerRequest: 1, maxPixels: 0 });
    try {
      if (files.length === 0) throw new ApiError(400, 'invalidRequest', message('modelFileMissing'));
      await kensa.modelSignatures.verifyImport(files[0].temporaryPath, formBoolean(fields, 'trust') === true);
      const model = await kensa.models.importFile(request.clientId, files[0].temporaryPath, files[0].fileName, fields.target || null);
      // An imported model learnt from no image here: it has no image_url to sign.
      return { data: presentModel(model, request.language, null) };
    } finally {
      await removeTemporary(kensa, files);
    }
  });

  app.delete('/api/v1/model', {
    schema: {
      tags: ['models'], summary: 'Delete models (all named or none)', security: bearer,
      description: 'An unknown id, or one that is no number, is a 404 with the original\'s empty title and detail "No model found".',
      body: {
        type: 'object', required: ['model_ids'],
        properties: { model_ids: { type: 'array', minItems: 1, maxItems: 1000, items: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 100 }] } } },
      },
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    await kensa.models.delete(request.clientId, (request.body as { model_ids: (number | string)[] }).model_ids);
    return { data: { status: 'ok' } };
  });

  app.post('/api/v1/train', {
    schema: {
      tags: ['models'],
      summary: 'Train a model in the background (answers at once with status "creating")',
      security: bearer,
      body: {
        type: 'object',
        required: ['name'],
        properties: {
          algorithm_id: { type: 'string', minLength: 1, maxLength: 50, description: "Default: the engine's default algorithm" },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          override_params: {
            type: ['array', 'null'],
            maxItems: 200,
            description: "Kensa's parameter ids (GET /algorithms), or the original's where it published one (OC: 249 patch_size, 252 nu_max); null: none",
            items: { type: 'object', required: ['algorithm_parameter_id', 'value'], properties: { algorithm_parameter_id: id, value: {} } },
          },
          item_ids: { type: ['array', 'null'], maxItems: 100_000, items: { type: 'string' } },
          target: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 200 }, { type: 'null' }], description: 'Target id or name (beyond); default: the default target' },
        },
      },
      response: { 200: data(ref('Model')), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const model = await kensa.training.train(request.clientId, request.body as TrainRequest);
    return { data: presentModel(model, request.language, await urlBuilder(request, kensa, publicUrl)) };
  });

  app.post('/api/v1/serve', {
    schema: {
      tags: ['models'],
      summary: 'Predict items in the background with a model (default: the active one)',
      security: bearer,
      body: {
        type: 'object',
        required: ['item_ids'],
        properties: {
          item_ids: { type: 'array', maxItems: 100_000, items: { type: 'string' } },
          // The original's SDK sends "" when the caller names no model.
          model_id: { anyOf: [id, { type: 'null' }, { type: 'string', maxLength: 0 }], description: 'Absent, null or "": the active model' },
          target: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 200 }, { type: 'null' }], description: 'Target id or name (beyond); whose active model serves; default: the target of the items' },
        },
      },
      response: {
        200: data({ type: 'object', properties: { item_ids: { type: 'array', items: { type: 'string' } }, model_version: { type: 'string' } } }),
        ...errors(400, 401, 403, 404),
      },
    },
  }, async (request) => ({ data: await kensa.prediction.serve(request.clientId, request.body as ServeRequest) }));

  app.get('/api/v1/workers', {
    schema: {
      tags: ['models'], summary: 'Models being trained and items being predicted', security: bearer,
      response: {
        200: data({ type: 'object', properties: { training: { type: 'array', items: { type: 'string' } }, predicting: { type: 'array', items: { type: 'string' } } } }),
        ...errors(401),
      },
    },
  }, async (request) => ({ data: await kensa.jobs.workers(request.clientId) }));
}
