import type { ServerResponse } from 'node:http';

/**
 * The browser-side limits of every answer (web UI, API, images, /docs, /api/docs): scripts only from this server,
 * never framed, no MIME sniffing (an uploaded "image" is never run as HTML or script), no Referer leaving with
 * the signed image tokens of a page's URLs. Scripts never run inline.
 */
function contentSecurityPolicy(inlineStyles: boolean): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    // data: for the UI's inline icon, blob: for previews of chosen files and downloaded images.
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The web UI (its styles come from files; Preact sets element styles through the DOM, which CSP allows) and the API. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy(false);
/** The docs pages carry one style block and the API explorer sets styles inline: inline styles only there. */
const DOCS_CONTENT_SECURITY_POLICY = contentSecurityPolicy(true);

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
export function setSecurityHeaders(response: ServerResponse, path: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  if (/^\/(api\/)?docs(\/|$)/.test(path)) response.setHeader('content-security-policy', DOCS_CONTENT_SECURITY_POLICY);
}
