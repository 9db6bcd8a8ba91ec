import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, refuseHostName, type OutboundPolicy } from './address-policy.ts';

/**
 * POSTs a body to a tenant's URL under the outbound address policy, and answers the response's status. Redirects are
 * not followed (a 3xx is the answer: a redirect could re-send the body to an address the policy refuses).
 */
export function postToTenantUrl(url: string, headers: Record<string, string>, body: string, policy: OutboundPolicy, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
      // A literal address is connected to without a lookup: refused here instead.
      refuseHostName(parsed.hostname, policy);
    } catch (error) {
      reject(error);
      return;
    }
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(parsed, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(policy),
      // A connection of its own: a kept-alive one from the shared pool would skip the lookup (and its check).
      agent: false,
      timeout: timeoutMs,
    }, (response) => {
      // The body is read to its end (the connection is freed) and ignored.
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
