import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import { publicBaseOf } from './public-url.ts';

/** Builds the image URLs of answers; the route knows the base URL and the client's media token. */
export interface UrlBuilder {
  image(imageId: number, kind: 'raw' | 'thumbnail'): string;
  result(imageId: number, modelId: number, kind: 'overlay' | 'heatmap'): string;
}

/**
 * Image URLs of answers: absolute, on this server (or under KENSA_PUBLIC_URL when set), with a signed expiring
 * token so that `<img>` works.
 */
export async function urlBuilder(request: FastifyRequest, kensa: ServerContext, publicUrl: string | null): Promise<UrlBuilder> {
  const base = `${publicBaseOf(request, publicUrl)}/api/v1/images`;
  const token = encodeURIComponent(await kensa.auth.mediaToken(request.clientId));
  return {
    image: (imageId, kind) => `${base}/${imageId}/${kind}?token=${token}`,
    result: (imageId, modelId, kind) => `${base}/${imageId}/${kind}?model_id=${modelId}&token=${token}`,
  };
}

/** The URL of an inspection's kept heatmap (GET /images/inspect/{id}), signed like image URLs. */
export async function inspectHeatmapUrls(request: FastifyRequest, kensa: ServerContext, publicUrl: string | null): Promise<(heatmapId: string) => string> {
  const base = `${publicBaseOf(request, publicUrl)}/api/v1/images/inspect`;
  const token = encodeURIComponent(await kensa.auth.mediaToken(request.clientId));
  return (heatmapId) => `${base}/${heatmapId}?token=${token}`;
}
