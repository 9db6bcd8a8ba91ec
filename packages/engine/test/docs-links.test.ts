import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { headingAnchor } from '../../../scripts/generate-docs.ts';

const DOCS = resolve(import.meta.dirname, '../../../docs');

/** Anchors a Markdown file offers: its headings as GitHub slugs them (repeats get -1, -2 …). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCode(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = headingAnchor(heading[1].replace(/`/g, ''));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Fenced blocks and inline code hold examples, not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Relative links of a Markdown file that lead nowhere: a missing file, or a heading the target does not have. */
function brokenLinks(path: string): string[] {
  const markdown = readFileSync(path, 'utf8');
  const broken: string[] = [];
  for (const match of withoutCode(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: … are not checked offline
    const [file, anchor] = target.split('#', 2);
    const destination = file ? resolve(dirname(path), decodeURIComponent(file)) : path;
    if (!existsSync(destination)) {
      broken.push(`${target} (no file ${destination})`);
      continue;
    }
    if (anchor && destination.endsWith('.md') && !anchorsOf(readFileSync(destination, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) {
      broken.push(`${target} (no heading #${anchor} in ${destination})`);
    }
  }
  return broken;
}

test('docs/*.md have no broken relative links or anchors', () => {
  const files = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
  for (const expected of ['getting-started.md', 'algorithms.md', 'algorithms.ja.md']) assert.ok(files.includes(expected), `docs/${expected} exists`);
  const problems = files.flatMap((f) => brokenLinks(join(DOCS, f)).map((b) => `docs/${f}: ${b}`));
  assert.deepEqual(problems, []);
});

test('the checker finds a missing file and a missing heading, and ignores code and web links', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kensa-links-'));
  try {
    writeFileSync(join(dir, 'other.md'), '# Other page\n\n## Deep — Section\n');
    writeFileSync(join(dir, 'page.md'), [
      '# Page', '',
      '[fine](other.md) [fine anchor](other.md#deep--section) [self](#page) [web](https://example.com/nowhere)',
      '[gone](missing.md) [bad anchor](other.md#nowhere) ![picture](img/none.png)',
      '`[in code](nope.md)`', '```', '[in a block](nope.md)', '```',
    ].join('\n'));
    const broken = brokenLinks(join(dir, 'page.md'));
    assert.equal(broken.length, 3, broken.join('\n'));
    assert.match(broken[0], /^missing\.md/);
    assert.match(broken[1], /^other\.md#nowhere/);
    assert.match(broken[2], /^img\/none\.png/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
