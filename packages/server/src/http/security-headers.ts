import type { ServerResponse } from 'node:http';

/**
 * The browser-side limits of every answer (web UI, API, images, /docs, /api/docs): scripts only from this server,
 * never framed, no MIME sniffing (an uploaded "image" is never run as HTML or script), no Referer leaving with
 * the signed image tokens of a page's URLs. Inline styles stay allowed: the docs pages carry one style block and
 * the API explorer sets styles inline; scripts never run inline.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  // data: for the UI's inline icon, blob: for previews of chosen files and downloaded images.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Sets them on the raw response, so that they also leave with answers written past Fastify's reply (the event
 * stream, static files) — Node merges these with the headers of `writeHead`.
 */
export function setSecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
}
