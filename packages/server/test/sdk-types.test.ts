/**
 * Wire types the SDK and the server both name (the items page's rows, audit rows, annotation boxes) are defined once,
 * in the SDK, which clients read. The server imports them for their types only: erased when it runs, so the server
 * does not depend on the SDK package, and the SDK, which clients install alone, never imports the server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';

const PACKAGES = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

it('the server imports the SDK for types only', () => {
  const importers: string[] = [];
  for (const file of sources(join(PACKAGES, 'server/src'))) {
    const statements = readFileSync(file, 'utf8').match(/^(?:import|export)\b[^;]*?from\s+['"]@kensa\/sdk[^'"]*['"]/gms) ?? [];
    for (const statement of statements) {
      assert.match(statement, /^(?:import|export)\s+type\b/, `${file}: ${statement}`);
      importers.push(file);
    }
  }
  assert.ok(importers.length > 0, 'the shared wire types are imported from the SDK');
});

it('the SDK imports nothing of the server', () => {
  for (const file of sources(join(PACKAGES, 'sdk/src'))) {
    assert.doesNotMatch(readFileSync(file, 'utf8'), /from\s+['"](?:@kensa\/server|[./]+\/server\/)/, file);
  }
});
