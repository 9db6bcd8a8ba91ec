import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { ApiError, message } from '../http/errors.ts';
import { multipartParts, multipartError } from '../http/multipart.ts';
import { bearer, data, errors } from '../http/schemas.ts';

/** License files are a few kilobytes; anything much larger is not one. */
const MAX_LICENSE_BYTES = 64_000;

const limitsSchema = { type: ['object', 'null'], properties: { max_models: { type: ['integer', 'null'] }, max_predictions_per_month: { type: ['integer', 'null'] } } };

export function licenseRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.get('/api/v1/license', {
    schema: {
      tags: ['license'],
      summary: 'The license state of this client (beyond the contract): active, missing or expired, its limits and their usage',
      security: bearer,
      response: {
        200: data({
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['active', 'missing', 'expired'] }, client_id: { type: 'string' },
            expires_at: { type: ['string', 'null'] }, limits: limitsSchema,
            usage: { type: 'object', properties: { models: { type: 'integer' }, predictions_this_month: { type: 'integer' } } },
          },
        }),
        ...errors(401),
      },
    },
  }, async (request) => ({
    data: { ...await kensa.licenses.state(request.clientId), usage: await kensa.licenseUsage.counts(request.clientId) },
  }));

  // The original's SDK documents /api/auth/license; both paths activate.
  for (const path of ['/api/v1/license', '/api/auth/license']) app.post(path, {
    schema: {
      tags: ['license'],
      summary: path === '/api/v1/license' ? 'Activate a license file (multipart field "license")' : 'Activate a license file: the original\'s path, the same as POST /api/v1/license',
      consumes: ['multipart/form-data'],
      security: bearer,
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 403) },
    },
  }, async (request) => {
    if (!request.isMultipart()) throw new ApiError(403, 'invalidLicense', message('licenseMissingFile'));
    let text: string | null = null;
    for await (const part of multipartParts(request, { fileSize: MAX_LICENSE_BYTES, files: 5 })) {
      if (part.type !== 'file') continue;
      const buffer = await part.toBuffer().catch((error: unknown) => { throw multipartError(error, request); });
      if (part.fieldname === 'license') text = buffer.toString('utf8');
    }
    if (text === null) throw new ApiError(403, 'invalidLicense', message('licenseMissingFile'));
    await kensa.licenses.activate(request.clientId, text);
    return { data: { status: 'ok' } };
  });
}
