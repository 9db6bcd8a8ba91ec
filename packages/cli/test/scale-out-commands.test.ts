/** The scale-out commands refuse what cannot work, with a message that says what to set. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runKensa } from './run-kensa.ts';

const noScaleOut = { KENSA_DATABASE_URL: '', KENSA_BLOB_URL: '' };

test('kensa worker without KENSA_DATABASE_URL: a usage error naming the variable', async () => {
  const run = await runKensa(['worker', '--concurrency', '1'], noScaleOut);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /KENSA_DATABASE_URL=postgres:/);
  const bad = await runKensa(['worker', '--concurrency', 'many'], noScaleOut);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--concurrency must be a positive integer/);
});

test('kensa serve --no-workers on the embedded database: refused (no worker could ever run its jobs)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-cli-scale-'));
  try {
    const run = await runKensa(['serve', '--no-workers', '--port', '0', '--data-dir', dataDir], noScaleOut);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /needs a shared database \(KENSA_DATABASE_URL/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('kensa migrate without a target database, or onto a bad URL: clear errors', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-cli-migrate-'));
  try {
    const missing = await runKensa(['migrate', '--data-dir', dataDir], noScaleOut);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--to-database postgres:\/\/… is required/);
    const wrong = await runKensa(['migrate', '--data-dir', dataDir, '--to-database', 'mysql://db/kensa'], noScaleOut);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /must be a postgres:\/\/ URL/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
