import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { renderMarkdown } from '../src/docs/markdown.ts';

const DOCS = resolve(import.meta.dirname, '../../../docs');
let app: FastifyInstance;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kensa-docs-'));
  ({ app } = await buildApp({ dataDir, workers: 1, webDist: null }));
  await app.ready();
});
after(async () => {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
});

const get = (url: string) => app.inject({ method: 'GET', url });

test('/docs serves the docs as HTML, and every link and image of every page reached from the index answers', async () => {
  assert.equal((await get('/docs')).headers.location, '/docs/');
  const seen = new Set<string>();
  const queue = ['/docs/'];
  let images = 0;
  while (queue.length) {
    const url = queue.shift()!;
    const response = await get(url);
    assert.equal(response.statusCode, 200, `${url} answers`);
    if (!String(response.headers['content-type']).startsWith('text/html')) continue;
    const html = response.body;
    const targets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    for (const target of targets) {
      const [path, anchor] = target.split('#', 2);
      if (!path.startsWith('/docs')) continue; // web links, the UI and the API explorer are not pages of the docs
      if (path.match(/\.(png|jpe?g|svg)$/)) images++;
      if (anchor) {
        const page = (await get(path)).body;
        assert.ok(page.includes(`id="${anchor}"`), `${url} links to ${target}, a heading that page has`);
      }
      if (!seen.has(path)) {
        seen.add(path);
        queue.push(path);
      }
    }
  }
  for (const page of ['/docs/api.md', '/docs/getting-started.md', '/docs/algorithms.ja.md', '/docs/backup.md', '/docs/repo/packages/server/README.md']) {
    assert.ok(seen.has(page), `${page} is reached from /docs/`);
  }
  assert.ok(images >= 1, 'getting-started shows screenshots');
  const png = await get('/docs/images/dashboard.png');
  assert.equal(png.headers['content-type'], 'image/png');
  assert.deepEqual(png.rawPayload, await readFile(join(DOCS, 'images/dashboard.png')));
});

test('/docs serves nothing outside the documentation', async () => {
  for (const url of ['/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/repo/package.json', '/docs/repo/.git/config',
    '/docs/repo/node_modules/fastify/README.md', '/docs/repo/docs/images/../../packages/web/test/screenshots/10-dashboard.png',
    '/docs/repo/packages/web/test/screenshots/10-dashboard.png', '/docs/repo/../../etc/passwd.md', '/docs/missing.md']) {
    const response = await get(url);
    assert.ok(response.statusCode === 404, `${url} → ${response.statusCode}`);
    assert.ok(!response.body.includes('"name": "kensa"'));
  }
});

test('the renderer escapes raw HTML and renders tables, code, lists, anchors and relative links', () => {
  const html = renderMarkdown([
    '# Title', '', 'Text with <script>alert(1)</script>, `a <b>` and **bold** and [a link](other.md#part). <https://example.com/x>', '',
    '| a | b |', '|---|---|', '| `x \\| y` | ![pic](images/p.png) |', '',
    '- one', '  continued', '- two', '', '```sh', 'echo "<tag>"', '```', '', '## Title', '', '<!-- hidden -->',
  ].join('\n'), { resolveLink: (target) => `/base/${target}` });
  assert.ok(!html.includes('<script>'));
  assert.match(html, /&lt;script&gt;/);
  assert.match(html, /<h1 id="title">Title<\/h1>/);
  assert.match(html, /<h2 id="title-1">/);
  assert.match(html, /<code>a &lt;b&gt;<\/code>/);
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<a href="https:\/\/example.com\/x">https:\/\/example.com\/x<\/a>/);
  assert.match(html, /<a href="\/base\/other.md#part">a link<\/a>/);
  assert.match(html, /<td><code>x \\\| y<\/code><\/td><td><img src="\/base\/images\/p.png" alt="pic"><\/td>/);
  assert.match(html, /<ul><li>one continued<\/li><li>two<\/li><\/ul>/);
  assert.match(html, /<pre><code class="language-sh">echo &quot;&lt;tag&gt;&quot;<\/code><\/pre>/);
  assert.ok(!html.includes('hidden'));
});
