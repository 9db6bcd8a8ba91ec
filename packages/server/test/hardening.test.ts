/**
 * Issue 14, part B: the medium and low findings of the probe of 4eee47a that are not about routing or outbound
 * requests. Each test names the finding it reproduces; every one of them failed on 4eee47a.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { createClient, parseBootstrapClients } from '../src/index.ts';
import { Api, cookie, startTestServer, type TestServer } from './helpers.ts';

const usesSqlite = process.env.KENSA_TEST_POSTGRES !== '1';

let server: TestServer;
let api: Api;
let webDist: string;
/** The server's log lines (errors only: KENSA_LOG is off). */
const logLines: string[] = [];

before(async () => {
  webDist = mkdtempSync(join(tmpdir(), 'kensa-hardening-web-'));
  writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>Kensa</title><div id="app"></div>');
  server = await startTestServer({
    webDist,
    bootstrapClients: parseBootstrapClients('alice:alice-secret,guessed:guessed-secret,rotated:rotated-secret-1'),
    timeouts: { headersMs: 1000, requestMs: 5000, bodyIdleMs: 700 },
    logStream: { write: (line) => { logLines.push(line); } },
  });
  api = await new Api(server.url).login('alice', 'alice-secret');
  await api.upload([cookie('train/good', 0)], { training: 'true', good: 'true' });
});
after(async () => {
  await server.dispose();
  rmSync(webDist, { recursive: true, force: true });
});

/** A raw connection to the server: what a slow or broken client sends, byte for byte. */
function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the server sent once it closes the connection, or rejects after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<{ text: string; afterMs: number }> {
  const started = performance.now();
  let text = '';
  socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the server kept the stalled connection open for ${ms} ms`)); }, ms);
    socket.on('close', () => { clearTimeout(timer); resolve({ text, afterMs: performance.now() - started }); });
    socket.on('error', () => {});
  });
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('finding 4: parallel guessing is slowed', () => {
  test('40 wrong secrets sent at once wait in turn: at most 11 are answered within 5 s, as if sent one by one', async () => {
    const started = performance.now();
    const answeredAfter = await Promise.all(Array.from({ length: 40 }, async () => {
      await api.timedFailedLogin('guessed');
      return performance.now() - started;
    }));
    // Attempt n waits as the n-th sequential failure would (from the 6th: 100 ms doubling), and from the 12th on the
    // 5 s cap before its secret is even checked — however busy the machine. On 4eee47a every guess read "no failures
    // yet" before any was recorded: all 40 were answered as fast as scrypt went (2.3 s in the probe).
    const early = answeredAfter.filter((ms) => ms < 5000).length;
    assert.ok(early <= 11, `${early} of 40 parallel guesses were answered within 5 s`);
    await new Api(server.url).login('guessed', 'guessed-secret');
    assert.ok(await api.timedFailedLogin('guessed') < 1000, 'a success clears the count');
  });
});

describe('finding 5: uploads that stall are timed out', () => {
  test('an upload that stops after its headers and part of the body is closed and its temporary file removed', async () => {
    const socket = await rawSocket(server.url);
    const closed = closedWithin(socket, 6000);
    const boundary = 'stalled-upload';
    socket.write([
      'POST /api/v1/upload HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${api.token}`,
      `Content-Type: multipart/form-data; boundary=${boundary}`, 'Content-Length: 10000000', '', '',
    ].join('\r\n'));
    socket.write(`--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="slow.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
    socket.write(cookie('train/good', 1).bytes.subarray(0, 2000));
    const tmp = join(server.dataDir, 'tmp');
    await until(() => readdirSync(tmp).length > 0, 3000, 'the partial upload in tmp/');
    const { afterMs } = await closed;
    assert.ok(afterMs < 4000, `closed after ${afterMs.toFixed(0)} ms; the body idle limit is 700 ms`);
    await until(() => readdirSync(tmp).length === 0, 2000, 'the partial temporary file to be removed');
    assert.deepEqual(logLines, [], 'a stalled client is not a server error');
  });

  test('a request whose headers never end gets a 408 in the envelope and the connection is closed', async () => {
    const socket = await rawSocket(server.url);
    const closed = closedWithin(socket, 6000);
    socket.write('POST /api/v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const { text, afterMs } = await closed;
    assert.ok(afterMs < 4000, `closed after ${afterMs.toFixed(0)} ms; the header limit is 1000 ms`);
    assert.match(text, /^HTTP\/1\.1 408/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.errors.status, 408);
    assert.equal(body.errors.title, 'Request timeout');
  });
});

describe('finding 6: security headers', () => {
  const expectHeaders = (headers: Headers, where: string) => {
    const csp = headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/, `${where}: CSP`);
    assert.match(csp, /script-src 'self'(;|$)/, `${where}: scripts only from this server`);
    assert.match(csp, /frame-ancestors 'none'/, `${where}: never framed`);
    assert.equal(headers.get('x-content-type-options'), 'nosniff', `${where}: nosniff`);
    assert.equal(headers.get('x-frame-options'), 'DENY', `${where}: X-Frame-Options`);
    assert.equal(headers.get('referrer-policy'), 'no-referrer', `${where}: Referrer-Policy`);
  };

  test('the web UI, the API, stored images, /docs, the API explorer and errors carry CSP, nosniff, no framing, no referrer', async () => {
    const items = await api.get('/api/v1/items');
    const rawUrl: string = items.body.data.training[0].default_image;
    for (const path of ['/', '/some/ui/route', '/api/v1/items', '/docs/', '/api/docs/', '/api/v1/nothing-here', '/api/auth/app_version']) {
      const answer = await fetch(server.url + path, { headers: { authorization: `Bearer ${api.token}` } });
      expectHeaders(answer.headers, path);
      // Inline styles only where the pages need them (the docs' style block, the API explorer).
      assert.equal(/'unsafe-inline'/.test(answer.headers.get('content-security-policy')!), path.includes('docs'), path);
    }
    const image = await fetch(rawUrl);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/jpeg');
    expectHeaders(image.headers, 'a stored image');
    expectHeaders((await fetch(`${server.url}/api/v1/items`)).headers, 'a 401');
  });
});

describe('finding 7: file modes', { skip: usesSqlite ? false : 'the database is PostgreSQL' }, () => {
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

  test('the data folder is 0700; the database (with the keys) and its -wal and -shm files 0600, also when an old installation had them 0644', async () => {
    assert.equal(mode(server.dataDir), '700');
    for (const file of ['kensa.sqlite', 'kensa.sqlite-wal', 'kensa.sqlite-shm']) assert.equal(mode(join(server.dataDir, file)), '600', file);

    const dataDir = mkdtempSync(join(tmpdir(), 'kensa-modes-'));
    const first = await startTestServer({ dataDir });
    await first.close();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'kensa.sqlite'), 0o644);
    const again = await startTestServer({ dataDir });
    try {
      assert.equal(mode(dataDir), '700');
      for (const file of ['kensa.sqlite', 'kensa.sqlite-wal', 'kensa.sqlite-shm']) assert.equal(mode(join(dataDir, file)), '600', file);
    } finally {
      await again.dispose();
    }
  });
});

describe('finding 8: tokens die with the secret they were issued for', () => {
  test('after the secret changes, earlier access tokens and image URLs are refused; the same secret set again revokes nothing', async () => {
    const rotated = await new Api(server.url).login('rotated', 'rotated-secret-1');
    await rotated.upload([cookie('train/good', 2)], { training: 'true', good: 'true' });
    const imageUrl: string = (await rotated.get('/api/v1/items')).body.data.training[0].thumbnail_image;
    assert.equal((await fetch(imageUrl)).status, 200);

    // Bootstrap clients are set again at every start: the same secret must keep tokens valid.
    await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'rotated', clientSecret: 'rotated-secret-1' });
    assert.equal((await rotated.get('/api/v1/items')).status, 200);

    await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'rotated', clientSecret: 'rotated-secret-2' });
    assert.equal((await rotated.get('/api/v1/items')).status, 401, 'the access token of the old secret');
    assert.equal((await fetch(imageUrl)).status, 401, 'the image URL of the old secret');
    const renewed = await new Api(server.url).login('rotated', 'rotated-secret-2');
    assert.equal((await renewed.get('/api/v1/items')).status, 200);
    const { status } = await new Api(server.url).request('POST', '/api/auth/token', { client_id: 'rotated', client_secret: 'rotated-secret-1', grant_type: 'client_credentials' });
    assert.equal(status, 401);
  });
});

describe('low findings: every status leaves in the envelope', () => {
  const sendMultipart = async (contentType: string | null, body: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${api.token}` };
    if (contentType !== null) headers['content-type'] = contentType;
    const answer = await fetch(`${server.url}/api/v1/upload`, { method: 'POST', headers, body });
    return { status: answer.status, body: await answer.json() as any };
  };
  const part = '--xyz\r\nContent-Disposition: form-data; name="files[0]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabcdef\r\n--xyz--\r\n';

  test('malformed multipart: missing boundary, truncated body, bad part headers, wrong content type, empty body are 400s', async () => {
    const variants: [string, string | null, string][] = [
      ['missing boundary', 'multipart/form-data', part],
      ['truncated body', 'multipart/form-data; boundary=xyz', part.slice(0, 70)],
      ['bad part headers', 'multipart/form-data; boundary=xyz', '--xyz\r\nthis is no header\r\n\r\nabc\r\n--xyz--\r\n'],
      ['wrong content type', 'text/plain', part],
      ['empty body', 'multipart/form-data; boundary=xyz', ''],
    ];
    for (const [name, contentType, body] of variants) {
      const answer = await sendMultipart(contentType, body);
      assert.equal(answer.status, 400, `${name}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errors.status, 400, name);
    }
    assert.deepEqual(readdirSync(join(server.dataDir, 'tmp')), []);
    const missingBoundary = await sendMultipart('multipart/form-data', part);
    assert.equal(missingBoundary.body.errors.title, 'Invalid multipart body');
    assert.match(missingBoundary.body.errors.detail, /Boundary not found/);
  });

  test('414 (a 300-character item id), 400 (bad percent-encoding), 404, 413, 415 and 431 are envelopes', async () => {
    const expectEnvelope = (answer: { status: number; body: any }, status: number, where: string) => {
      assert.equal(answer.status, status, `${where}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body?.errors?.status, status, `${where}: ${JSON.stringify(answer.body)}`);
      assert.equal(typeof answer.body.errors.title, 'string', where);
    };
    expectEnvelope(await api.get(`/api/v1/item/${'x'.repeat(300)}`), 414, 'a 300-character item id');
    expectEnvelope(await api.withLanguage('ja').get(`/api/v1/item/${'x'.repeat(300)}`), 414, 'in Japanese');
    expectEnvelope(await api.get('/api/v1/item/%E0%A4%A'), 400, 'bad percent-encoding');
    expectEnvelope(await api.get('/api/v1/no-such-route'), 404, 'an unknown route');
    expectEnvelope(await api.request('PATCH', '/api/v1/items'), 404, 'an unknown method');
    expectEnvelope(await api.request('POST', '/api/v1/serve', undefined, { raw: JSON.stringify({ item_ids: ['x'.repeat(10_000_001)] }) }), 413, 'a JSON body over 10 MB');
    const xml = await fetch(`${server.url}/api/v1/serve`, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/xml' }, body: '<a/>' });
    expectEnvelope({ status: xml.status, body: await xml.json() }, 415, 'an XML body');
    const huge = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/api/v1/items`, { headers: { 'x-filler': 'y'.repeat(20_000) } }, (response) => {
        let text = '';
        response.on('data', (chunk) => { text += chunk; });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      });
      request.on('error', reject);
      request.end();
    });
    expectEnvelope(huge, 431, 'headers over 16 KB');
  });
});

describe('low finding: image URLs follow the Host header', () => {
  /** GET with a Host header of our choosing (fetch does not let one set it). */
  const getWithHost = (baseUrl: string, path: string, host: string, token: string) => new Promise<any>((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, { headers: { host, authorization: `Bearer ${token}` } }, (response) => {
      let text = '';
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve(JSON.parse(text)));
    });
    request.on('error', reject);
    request.end();
  });

  test('with KENSA_PUBLIC_URL every image URL starts with it, whatever Host says; without it an odd Host is not reflected', async () => {
    const withPublicUrl = await startTestServer({ publicUrl: 'https://kensa.example.com/inspection/' });
    try {
      const alice = await new Api(withPublicUrl.url).login('alice', 'alice-secret');
      await alice.upload([cookie('train/good', 3)], { training: 'true', good: 'true' });
      const items = await getWithHost(withPublicUrl.url, '/api/v1/items', 'attacker.example', alice.token!);
      const item = items.data.training[0];
      for (const url of [item.default_image, item.thumbnail_image]) {
        assert.ok(url.startsWith('https://kensa.example.com/inspection/api/v1/images/'), url);
      }
      assert.doesNotMatch(JSON.stringify(items), /attacker/);
    } finally {
      await withPublicUrl.dispose();
    }
    const odd = await getWithHost(server.url, '/api/v1/items', 'attacker.example/x?y=', api.token!);
    const url: string = odd.data.training[0].default_image;
    assert.ok(url.startsWith('http://127.0.0.1:'), url);
    const plain = await getWithHost(server.url, '/api/v1/items', 'inspection-pc:8080', api.token!);
    assert.ok(plain.data.training[0].default_image.startsWith('http://inspection-pc:8080/api/v1/images/'), 'a plain host name is the one the client used');
  });
});

describe('low findings: logging', () => {
  test('a 500 is logged with its stack even without KENSA_LOG; with it, requests are logged without their tokens', async () => {
    const lines: string[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'kensa-logging-'));
    for (const logRequests of [false, true]) {
      lines.length = 0;
      const { app } = await buildApp({ dataDir, workers: 1, webDist: null, logger: logRequests, logStream: { write: (line) => { lines.push(line); } } });
      try {
        // A route that fails as an unexpected bug would: the real error handler and logger handle it.
        // Public: routes are protected unless they say otherwise (http/authentication.ts).
        app.get('/api/failing-on-purpose', { config: { access: 'public' } }, async () => { throw new Error('an unexpected failure'); });
        await app.ready();
        const failed = await app.inject({ method: 'GET', url: '/api/failing-on-purpose' });
        assert.equal(failed.statusCode, 500);
        assert.equal(JSON.parse(failed.body).errors.status, 500);
        const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.level >= 50);
        assert.ok(logged, `no error line among ${lines.length} lines`);
        assert.match(logged.err.stack, /an unexpected failure\n\s+at /);
        assert.deepEqual([logged.req.method, logged.req.url], ['GET', '/api/failing-on-purpose']);

        await app.inject({ method: 'GET', url: '/api/v1/images/1/raw?token=SECRET-MEDIA-TOKEN&model_id=2' });
        await app.inject({ method: 'GET', url: '/api/v1/items', headers: { authorization: 'Bearer SECRET-BEARER-TOKEN' } });
        const text = lines.join('');
        assert.doesNotMatch(text, /SECRET-MEDIA-TOKEN|SECRET-BEARER-TOKEN/);
        if (logRequests) assert.match(text, /\/api\/v1\/images\/1\/raw\?token=\[redacted\]&model_id=2/);
        else assert.equal(lines.length, 1, 'without KENSA_LOG only the error is logged');
      } finally {
        await app.close();
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
});

test('none of the refusals above (timeouts, malformed bodies, long URLs, revoked tokens) was logged as a server error', () => {
  assert.deepEqual(logLines, []);
});
