/**
 * Runs the Python SDK's unittest suite (`clients/python/tests`) against a live server, so `npm test` covers
 * the third client too.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { COOKIES, REPO_ROOT, startLiveServer } from '../../sdk/test/live-server.ts';

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });

describe('Python SDK against a live server', { timeout: 300_000 }, () => {
  it('passes its unittest suite', { skip: python.status !== 0 ? 'python3 is not installed' : false }, async (t) => {
    const server = await startLiveServer([
      { clientId: 'py', clientSecret: 'py-secret' },
      { clientId: 'py-other', clientSecret: 'py-other-secret' },
    ]);
    const work = await mkdtemp(join(tmpdir(), 'kensa-python-test-'));
    try {
      await server.createClient('py-new', 'py-new-secret');
      const licenseFile = join(work, 'py-new.license');
      await writeFile(licenseFile, await server.issueLicense('py-new'));
      const run = await new Promise<{ code: number | null; output: string }>((done, fail) => {
        const child = spawn('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.'], {
          cwd: resolve(REPO_ROOT, 'clients/python'),
          env: {
            ...process.env,
            PYTHONDONTWRITEBYTECODE: '1',
            KENSA_API_URL: server.apiUrl,
            KENSA_CLIENT_ID: 'py',
            KENSA_CLIENT_SECRET: 'py-secret',
            KENSA_OTHER_CLIENT_ID: 'py-other',
            KENSA_OTHER_CLIENT_SECRET: 'py-other-secret',
            KENSA_NEW_CLIENT_ID: 'py-new',
            KENSA_NEW_CLIENT_SECRET: 'py-new-secret',
            KENSA_NEW_LICENSE_FILE: licenseFile,
            KENSA_COOKIES_DIR: COOKIES,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (c) => (output += c));
        child.stderr.on('data', (c) => (output += c));
        child.on('error', fail);
        child.on('close', (code) => done({ code, output }));
      });
      assert.equal(run.code, 0, run.output);
      const ran = Number(/Ran (\d+) tests?/.exec(run.output)?.[1] ?? 0);
      assert.ok(ran >= 8, `ran ${ran} Python tests:\n${run.output}`);
      assert.doesNotMatch(run.output, /skipped/i, run.output);
      t.diagnostic(`${python.stdout.trim()}: ${/Ran \d+ tests? in [\d.]+s/.exec(run.output)?.[0]}, OK`);
    } finally {
      await server.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
