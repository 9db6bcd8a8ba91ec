/**
 * Authentication is decided on the route the router matched: every protected route, however its path is spelled
 * (percent-encoded letters and digits, repeated slashes, dot segments, other letter case, a trailing slash), answers
 * 401 in the contract's envelope to a request without a token, never 200 or 500. The routes are read from the server
 * itself, so a route added later is tried too.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { isApiPath, routeAccessTable } from '../src/http/authentication.ts';

let app: FastifyInstance;
let dataDir: string;
let port: number;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kensa-auth-test-'));
  // A web UI to fall back to, so that paths the router does not know are tried against its fallback too.
  const webDist = join(dataDir, 'web');
  mkdirSync(webDist);
  writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>Kensa</title>');
  ({ app } = await buildApp({ dataDir: join(dataDir, 'data'), workers: 1, webDist }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

after(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface RawAnswer { status: number; body: string }

/** A request whose path goes on the wire exactly as written (fetch would normalise dot segments and encodings). */
function rawRequest(method: string, path: string, options: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...options.headers, ...(options.body ? { 'content-length': String(options.body.length) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    // An answer that never ends (an event stream let through) counts as a failure, not a hang.
    request.setTimeout(5000, () => {
      request.destroy();
      resolve({ status: -1, body: 'no complete answer within 5 s' });
    });
    request.end(options.body);
  });
}

const percent = (char: string) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Ways of writing one path that a careless check would not recognise as it. */
function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const encodeFirst = (segment: string) => (segment === '' ? segment : percent(segment[0]) + segment.slice(1));
  const encodeDigits = path.replace(/[0-9]/g, percent);
  const out = new Set<string>([
    path,
    `/${segments.map(encodeFirst).join('/')}`,
    `/${segments.map(encodeFirst).join('/')}`.toUpperCase().replace(/%([0-9A-F]{2})/gi, (m) => m.toLowerCase()),
    path.replace(/[a-z]/g, (c) => percent(c)),
    path.replace('/api', '/%61pi'),
    path.replace('/v1', '/%761'),
    path.replace('/v1', '/v%31'),
    encodeDigits,
    `/${path}`,
    path.replace('/v1/', '/v1//'),
    path.replace('/api/', '/api//'),
    `${path}/`,
    path.replace('/v1/', '/v1/./'),
    path.replace('/v1/', '/x/../v1/'),
    path.replace('/v1/', '/v1/%2e/'),
    path.replace('/v1/', '/x/%2e%2e/v1/'),
    path.toUpperCase(),
    path.replace('/api/', '/API/'),
    path.replace('/v1/', '/V1/'),
    `${path};x=1`,
  ]);
  return [...out];
}

test('every route without its own public declaration is protected; the public ones are few and known', () => {
  const table = routeAccessTable(app);
  const publicRoutes = new Set(table.filter((r) => r.access === 'public' && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`));
  for (const route of publicRoutes) {
    assert.ok(!route.includes('/api/v1/'), `${route} is public`);
  }
  assert.ok(publicRoutes.has('POST /api/auth/token'));
  assert.ok(table.filter((r) => r.access !== 'public').length >= 30, 'the protected routes are listed');
});

test('no spelling of a protected route gets past authentication: 401 in the envelope, never 200 or 500', async () => {
  const protectedRoutes = routeAccessTable(app).filter((r) => r.access !== 'public' && r.method !== 'HEAD');
  const failures: string[] = [];
  let tried = 0;
  for (const route of protectedRoutes) {
    const path = route.url.replace(/:[A-Za-z_]+/g, '1').replace(/\*$/, 'x');
    for (const spelling of spellings(path)) {
      for (const query of ['', '?token=forged.token.value']) {
        const answer = await rawRequest(route.method, spelling + query, {
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : Buffer.from('{}'),
          headers: route.method === 'GET' || route.method === 'DELETE' ? {} : { 'content-type': 'application/json' },
        });
        tried++;
        let envelope: { errors?: { status?: number } } = {};
        try { envelope = JSON.parse(answer.body); } catch { /* not JSON: a failure below */ }
        if (answer.status !== 401 || envelope.errors?.status !== 401) failures.push(`${route.method} ${spelling}${query} → ${answer.status} ${answer.body.slice(0, 80)}`);
      }
    }
  }
  assert.ok(tried > 500, `${tried} requests`);
  assert.deepEqual(failures, []);
});

test('an upload to an encoded path is refused before a byte is stored in data/tmp', async () => {
  const boundary = 'kensa-boundary';
  const file = Buffer.alloc(3_000_000, 7);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  for (const path of ['/api/v%31/upload', '/api/%761/upload', '/%61pi/v1/upload', '/api/v1/upload']) {
    const answer = await rawRequest('POST', path, { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    assert.equal(answer.status, 401, `${path}: ${answer.body}`);
  }
  assert.deepEqual(readdirSync(join(dataDir, 'data', 'tmp')), []);
});

test('the public routes stay public, and unknown non-API pages get the web UI', async () => {
  assert.equal((await rawRequest('GET', '/api/health')).status, 200);
  assert.equal((await rawRequest('GET', '/api/openapi.json')).status, 200);
  assert.equal((await rawRequest('GET', '/api/docs/')).status, 200);
  const page = await rawRequest('GET', '/models/3');
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>Kensa/);
});

test('isApiPath sees the API in every spelling', () => {
  for (const path of ['/api/v1/models', '/API/v1', '/%61pi/v1/x', '//api/v1', '/x/../api/v1', '/%2561pi/v1', '/api']) assert.ok(isApiPath(path), path);
  for (const path of ['/', '/models/3', '/apix', '/docs/api']) assert.ok(!isApiPath(path), path);
});
