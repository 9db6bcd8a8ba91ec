import type { FastifyRequest } from 'fastify';

/** `token=` in a query (image URLs and the event stream carry signed tokens there) with its value hidden. */
export function redactedUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/**
 * Fastify's logger (pino), one JSON object a line: errors always (a 500 with its stack), every request only with
 * KENSA_LOG=1. Tokens never reach it: the Authorization header is redacted and the `token` query taken out of
 * logged URLs.
 */
export function loggerOptions(logRequests: boolean, stream?: { write(line: string): void }) {
  return {
    level: logRequests ? 'info' : 'error',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method, url: redactedUrl(request.url), host: request.host, remoteAddress: request.ip,
      }),
    },
    ...(stream ? { stream } : {}),
  };
}
