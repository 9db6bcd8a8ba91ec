import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');

it('loads in a browser: only node-files.ts touches Node, and only through a lazy import', () => {
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts') && f !== 'node-files.ts')) {
    const text = readFileSync(resolve(SRC, file), 'utf8');
    assert.doesNotMatch(text, /from\s+['"]node:/, `${file} imports a Node module`);
    assert.doesNotMatch(text, /\b(require\(|process\.|Buffer\.)/, `${file} uses a Node global`);
    assert.doesNotMatch(text, /^import\s+(?!type)[^;]*['"]\.\/node-files\.ts['"]/m, `${file} imports node-files.ts eagerly`);
  }
  const lazy = readdirSync(SRC).filter((f) => /await import\('\.\/node-files\.ts'\)/.test(readFileSync(resolve(SRC, f), 'utf8')));
  assert.deepEqual(lazy.sort(), ['files.ts', 'sdk.ts']);
});
