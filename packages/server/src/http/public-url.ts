import type { FastifyRequest } from 'fastify';

/** A Host header that is a name or address with an optional port, nothing more (no path, user or spaces). */
const PLAIN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Checks KENSA_PUBLIC_URL: an http(s) origin, optionally with a path prefix (behind a proxy that mounts Kensa
 * under one); returned without a trailing slash. Throws a message naming the setting when it is not one.
 */
export function parsePublicUrl(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`KENSA_PUBLIC_URL must be an http(s) URL such as https://kensa.example.com, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new Error(`KENSA_PUBLIC_URL must be an http(s) URL without user, query or fragment, got "${value}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * Where the URLs in answers (images, heatmaps; they carry a signed token) point. The configured public URL when
 * there is one — the request's Host header is then never reflected. Without it: the protocol and host the client
 * used (from X-Forwarded-* only with KENSA_TRUST_PROXY=1), if that host is a plain name or address; otherwise the
 * address the request came in on.
 */
export function publicBaseOf(request: FastifyRequest, publicUrl: string | null): string {
  if (publicUrl) return publicUrl;
  if (PLAIN_HOST.test(request.host)) return `${request.protocol}://${request.host}`;
  const socket = request.raw.socket;
  const address = socket.localAddress ?? '127.0.0.1';
  return `${request.protocol}://${address.includes(':') ? `[${address}]` : address}:${socket.localPort}`;
}
