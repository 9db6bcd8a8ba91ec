import type { FastifyInstance } from 'fastify';
import type { Installation } from '../context.ts';
import { ApiError, message } from '../http/errors.ts';
import { bearer, data, errors } from '../http/schemas.ts';

/** Licence files are a few kilobytes; anything much larger is not one. */
const MAX_LICENSE_BYTES = 64_000;

export function licenseRoutes(app: FastifyInstance, kensa: Installation) {
  app.post('/api/v1/license', {
    schema: {
      tags: ['license'],
      summary: 'Activate a licence file (multipart field "license")',
      consumes: ['multipart/form-data'],
      security: bearer,
      response: { 200: data({ type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 403) },
    },
  }, async (request) => {
    if (!request.isMultipart()) throw new ApiError(403, 'invalidLicense', message('licenseMissingFile'));
    let text: string | null = null;
    for await (const part of request.parts({ limits: { fileSize: MAX_LICENSE_BYTES, files: 5 } })) {
      if (part.type !== 'file') continue;
      const buffer = await part.toBuffer();
      if (part.fieldname === 'license') text = buffer.toString('utf8');
    }
    if (text === null) throw new ApiError(403, 'invalidLicense', message('licenseMissingFile'));
    kensa.licenses.activate(request.clientId, text);
    return { data: { status: 'ok' } };
  });
}
