import type { FastifyRequest } from 'fastify';
import type { Installation } from '../context.ts';
import type { UrlBuilder } from '../services/items.service.ts';

/** Image URLs of answers: absolute, on this server, with a signed expiring token so that `<img>` works. */
export function urlBuilder(request: FastifyRequest, kensa: Installation): UrlBuilder {
  const base = `${request.protocol}://${request.host}/api/v1/images`;
  const token = encodeURIComponent(kensa.auth.mediaToken(request.clientId));
  return {
    image: (imageId, kind) => `${base}/${imageId}/${kind}?token=${token}`,
    result: (imageId, modelId, kind) => `${base}/${imageId}/${kind}?model_id=${modelId}&token=${token}`,
  };
}
