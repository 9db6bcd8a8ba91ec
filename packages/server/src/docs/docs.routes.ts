import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, posix, relative, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml, renderMarkdown } from './markdown.ts';
import { PUBLIC_ROUTE } from '../http/authentication.ts';

/** The repository root: docs/ holds the pages, and their links may lead to READMEs elsewhere in the repo. */
const REPO_ROOT = resolve(import.meta.dirname, '../../../..');

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.webp': 'image/webp',
};

/**
 * URL of a repository file as these routes serve it: files under docs/ at `/docs/<path>`, other files (READMEs
 * the docs link to) at `/docs/repo/<path from the repo root>`.
 */
export function docsUrlOf(repoPath: string): string {
  return repoPath.startsWith('docs/') ? `/${repoPath}` : `/docs/repo/${repoPath}`;
}

/** The repo-relative path a request names, or null when it leaves the repo or names what is not documentation. */
function repoPathOf(urlPath: string): string | null {
  const decoded = decodeURIComponent(urlPath);
  const wanted = decoded.startsWith('/docs/repo/') ? decoded.slice('/docs/repo/'.length) : `docs/${decoded.slice('/docs/'.length)}`;
  const normal = posix.normalize(wanted === 'docs/' ? 'docs/README.md' : wanted);
  if (normal.startsWith('..') || posix.isAbsolute(normal)) return null;
  if (normal.split('/').some((part) => part.startsWith('.') || part === 'node_modules' || part === 'data')) return null;
  const extension = extname(normal).toLowerCase();
  if (extension !== '.md' && !IMAGE_TYPES[extension]) return null;
  // Images only from docs/: a data folder placed inside the checkout must never be readable without a token.
  if (extension !== '.md' && !normal.startsWith('docs/')) return null;
  const absolute = resolve(REPO_ROOT, normal);
  if (relative(REPO_ROOT, absolute).startsWith(`..${sep}`)) return null;
  return normal;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Kensa docs</title>
<style>
body{font:16px/1.55 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem 1.5rem;color:#1f2328}
nav{font-size:.9rem;margin-bottom:1rem}a{color:#0969da}code{background:#f0f1f3;padding:.1em .3em;border-radius:4px;font-size:.9em}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;border-radius:6px}pre code{background:none;padding:0}
table{border-collapse:collapse;margin:1rem 0;display:block;overflow:auto}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}
img{max-width:100%}blockquote{border-left:4px solid #d0d7de;margin:0;padding:0 1rem;color:#57606a}
</style></head><body><nav><a href="/docs/">Kensa documentation</a> · <a href="/">web UI</a> · <a href="/api/docs">API explorer</a></nav>
<main>
${body}
</main></body></html>
`;
}

async function send(reply: FastifyReply, repoPath: string | null): Promise<FastifyReply> {
  const absolute = repoPath === null ? null : resolve(REPO_ROOT, repoPath);
  if (!absolute || !existsSync(absolute) || !statSync(absolute).isFile()) {
    return reply.status(404).type('text/html; charset=utf-8').send(page('Not found', '<h1>Not found</h1><p>No such page in the docs.</p>'));
  }
  const extension = extname(absolute).toLowerCase();
  if (extension !== '.md') return reply.type(IMAGE_TYPES[extension]).header('cache-control', 'no-cache').send(await readFile(absolute));
  const markdown = await readFile(absolute, 'utf8');
  const directory = posix.dirname(repoPath!);
  const html = renderMarkdown(markdown, {
    resolveLink(target) {
      const [file, anchor] = target.split('#', 2);
      const hash = anchor === undefined ? '' : `#${anchor}`;
      if (!file) return hash;
      const linked = posix.normalize(posix.join(directory, file));
      return `${linked.startsWith('..') ? target : docsUrlOf(linked)}${hash}`;
    },
  });
  const title = /^#\s+(.*)$/m.exec(markdown)?.[1] ?? repoPath!;
  return reply.type('text/html; charset=utf-8').send(page(title, html));
}

/** The documentation as HTML pages at /docs (rendered on request from the Markdown files, no build step). */
export function docsRoutes(app: FastifyInstance): void {
  app.get('/docs', { schema: { hide: true }, ...PUBLIC_ROUTE }, async (_request, reply) => reply.redirect('/docs/'));
  app.get('/docs/*', { schema: { hide: true }, ...PUBLIC_ROUTE }, async (request, reply) => send(reply, repoPathOf(request.url.split('?')[0])));
}
