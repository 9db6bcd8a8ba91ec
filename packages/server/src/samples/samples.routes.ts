import type { FastifyInstance } from 'fastify';
import type { RunningContext } from '../context.ts';
import { ApiError } from '../http/errors.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { findAlgorithm, SAMPLE_PRODUCTS } from '@kensa/engine';
import type { SampleRequest } from './samples.service.ts';

const sampleJob = {
  type: 'object',
  properties: {
    job_id: { type: 'string' }, status: { type: 'string', enum: ['running', 'done', 'failed'] },
    step: { type: 'string', enum: ['images', 'upload', 'train', 'predict', 'done'] }, progress: { type: 'number', description: '0…1 over the whole job' },
    product: { type: 'string' }, seed: { type: 'integer' }, algorithm_id: { type: 'string' },
    target_id: { type: ['integer', 'null'] }, model_id: { type: ['integer', 'null'] },
    item_ids: { type: 'array', items: { type: 'string' }, description: 'The held-back items, predicted at the end' },
    results: {
      type: ['object', 'null'],
      properties: { defective: { type: 'integer' }, defective_found: { type: 'integer' }, good: { type: 'integer' }, good_passed: { type: 'integer' } },
    },
    error: { type: ['string', 'null'] }, started_at: { type: 'string' }, finished_at: { type: ['string', 'null'] },
  },
};

/** The sample project (beyond): the web UI's "Load sample project" button; the same project as `kensa demo`. */
export function samplesRoutes(app: FastifyInstance, kensa: RunningContext): void {
  app.post<{ Body: SampleRequest | undefined }>('/api/v1/samples', {
    schema: {
      tags: ['samples'],
      summary: 'Create the sample project in the target "Kensa demo" (beyond): generated images uploaded, the default algorithm trained, a held-back set predicted',
      description: 'Answers at once with the job; follow it with `GET /api/v1/samples/{job_id}`. While a job of this client runs, its job is answered instead of a new one.',
      security: bearer,
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          product: { type: 'string', enum: [...SAMPLE_PRODUCTS] }, seed: { type: 'integer', minimum: 0, maximum: 1_000_000 },
          algorithm_id: { type: 'string', minLength: 1, maxLength: 50 }, working_size: { type: 'integer', minimum: 32, maximum: 4096 },
        },
      },
      response: { 200: data(sampleJob), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const body = request.body ?? {};
    if (body.algorithm_id !== undefined && !findAlgorithm(body.algorithm_id)) {
      throw new ApiError(400, 'unknownAlgorithm', body.algorithm_id);
    }
    return { data: await kensa.samples.start(request.clientId, body, request.language) };
  });

  app.get('/api/v1/samples', {
    schema: { tags: ['samples'], summary: "This client's sample-project jobs since the server started, newest first (beyond)", security: bearer, response: { 200: data({ type: 'array', items: sampleJob }), ...errors(401) } },
  }, async (request) => ({ data: await kensa.samples.list(request.clientId) }));

  app.get<{ Params: { job_id: string } }>('/api/v1/samples/:job_id', {
    schema: {
      tags: ['samples'], summary: 'One sample-project job: step, progress and, when done, the verdicts counted against the truth (beyond)', security: bearer,
      params: { type: 'object', properties: { job_id: { type: 'string', maxLength: 100 } }, required: ['job_id'] },
      response: { 200: data(sampleJob), ...errors(401, 404) },
    },
  }, async (request) => {
    const job = await kensa.samples.get(request.clientId, request.params.job_id);
    if (!job) throw new ApiError(404, 'routeNotFound', request.params.job_id);
    return { data: job };
  });
}
