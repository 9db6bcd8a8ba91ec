import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cookie, QUICK_PARAMS, startLiveServer, type LiveServer } from '../../sdk/test/live-server.ts';
import { json, runKensa, type Run } from './run-kensa.ts';

const hasScript = spawnSync('script', ['--version']).status === 0;

const ok = (run: Run, code = 0) => assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);

describe('kensa command line against a live server', { timeout: 300_000 }, () => {
  let server: LiveServer;
  let home: string;
  let env: Record<string, string>;
  let modelId: number | string;

  before(async () => {
    server = await startLiveServer([{ clientId: 'cli', clientSecret: 'cli-secret' }]);
    home = await mkdtemp(join(tmpdir(), 'kensa-cli-test-'));
    env = { HOME: home, KENSA_PROFILE: join(home, 'profile.json') };
  });

  after(async () => {
    await server?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('prints help with every command, and usage errors exit 2', async () => {
    const help = await runKensa(['--help'], env);
    ok(help);
    for (const name of ['serve', 'client', 'license', 'login', 'upload', 'train', 'models', 'predict', 'inspect', 'item', 'bench']) {
      assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'), `help lists ${name}`);
    }
    const uploadHelp = await runKensa(['upload', '--help'], env);
    ok(uploadHelp);
    assert.match(uploadHelp.stdout, /Examples:\n  kensa upload/);
    ok(await runKensa(['frobnicate'], env), 2);
    const noKind = await runKensa(['upload', cookie('train/good', 'normal-1.jpg')], env);
    ok(noKind, 2);
    assert.match(noKind.stderr, /exactly one of --good, --defect, --predict/);
    const notLoggedIn = await runKensa(['models'], env);
    ok(notLoggedIn, 2);
    assert.match(notLoggedIn.stderr, /kensa login/);
  });

  it('logs in, keeping the profile readable by its owner only', async () => {
    const bad = await runKensa(['login', '--url', server.apiUrl, '--client-id', 'cli', '--client-secret', 'wrong', '--json'], env);
    ok(bad, 1);
    assert.equal(json(bad).error.title, 'Client id and secret mismatch');
    const login = await runKensa(['login', '--url', server.url, '--client-id', 'cli', '--client-secret', 'cli-secret', '--json'], env);
    ok(login);
    assert.equal(json(login).api_url, server.apiUrl);
    const profile = JSON.parse(await readFile(env.KENSA_PROFILE, 'utf8'));
    assert.equal(profile.client_id, 'cli');
    assert.ok(profile.access_token);
    assert.equal((await stat(env.KENSA_PROFILE)).mode & 0o777, 0o600);
    // A cached token the server refuses is renewed and saved back.
    await writeFile(env.KENSA_PROFILE, JSON.stringify({ ...profile, access_token: 'expired' }));
    ok(await runKensa(['models'], env));
    const renewed = JSON.parse(await readFile(env.KENSA_PROFILE, 'utf8')).access_token;
    assert.ok(renewed && renewed !== 'expired');
    ok(await runKensa(['models'], env));
    assert.equal(JSON.parse(await readFile(env.KENSA_PROFILE, 'utf8')).access_token, renewed, 'a good token is kept');
  });

  it('uploads a folder and files for training, with plain progress lines off a terminal', async () => {
    const folder = join(home, 'good');
    await mkdir(folder);
    for (const n of [1, 2, 3, 4]) await copyFile(cookie('train/good', `normal-${n}.jpg`), join(folder, `normal-${n}.jpg`));
    const good = await runKensa(['upload', folder, '--good', '--batch', '2'], env);
    ok(good);
    assert.match(good.stderr, /Uploading: 2\/4\nUploading: 4\/4/);
    assert.match(good.stdout, /Uploaded 4 file\(s\) as 4 item\(s\) for training \(good\)/);
    const defect = await runKensa(['upload', cookie('test/defect', 'anomaly-1.jpg'), '--defect', '--json'], env);
    ok(defect);
    assert.deepEqual(json(defect), { item_ids: ['anomaly-1'] });
    const missing = await runKensa(['upload', join(home, 'nowhere'), '--good'], env);
    ok(missing, 1);
    assert.match(missing.stderr, /No such file or folder/);
  });

  it('draws a progress bar in place on a terminal', { skip: hasScript ? false : 'util-linux `script` is not installed' }, async () => {
    // `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, '--import', 'tsx', resolve(import.meta.dirname, '../src/main.ts'), 'upload', cookie('test/good', 'test-normal-5.jpg'), cookie('test/good', 'test-normal-6.jpg'), '--predict', '--batch', '1']
      .map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = await new Promise<{ code: number | null; output: string }>((done, fail) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      child.on('error', fail);
      child.on('close', (code) => done({ code, output }));
    });
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /\r\x1b\[2KUploading \[#{15}-{15}\] 1\/2/);
    assert.match(run.output, /\r\x1b\[2KUploading \[#{30}\] 2\/2/);
    assert.doesNotMatch(run.output, /Uploading: /, 'no plain lines on a terminal');
  });

  it('trains with parameters by name and waits for the model', async () => {
    const unknown = await runKensa(['train', '--algorithm', 'PM', '--param', 'no_such=1'], env);
    ok(unknown, 1);
    assert.match(unknown.stderr, /PM has no parameter no_such/);
    const train = await runKensa(['train', '--algorithm', 'PM', '--name', 'cli-model', '--param', `working_size=${QUICK_PARAMS.working_size}`, '--wait', '--json'], env);
    ok(train);
    const model = json(train);
    assert.equal(model.status, 'active');
    assert.equal(model.name, 'cli-model');
    assert.equal(model.parameters.find((p: { name: string }) => p.name === 'working_size').value, String(QUICK_PARAMS.working_size));
    modelId = model.model_id;
    const table = await runKensa(['models'], env);
    ok(table);
    assert.match(table.stdout, /ID\s+NAME\s+ALGORITHM\s+STATUS/);
    assert.match(table.stdout, new RegExp(`^\\*\\s+${modelId}\\s+cli-model\\s+PM\\s+active`, 'm'));
  });

  it('predicts files, shows verdicts, and exits 3 on NG with --fail-on-ng', async () => {
    const run = await runKensa(['predict', cookie('test/defect', 'anomaly-2.jpg'), cookie('test/good', 'test-normal-1.jpg'), '--wait', '--fail-on-ng', '--json'], env);
    const result = json(run);
    assert.deepEqual(result.items.map((i: { item_id: string }) => i.item_id), ['anomaly-2', 'test-normal-1']);
    for (const item of result.items) assert.ok(item.verdict === 'OK' || item.verdict === 'NG', `verdict of ${item.item_id}`);
    const anyNg = result.items.some((i: { verdict: string }) => i.verdict === 'NG');
    ok(run, anyNg ? 3 : 0);
    const again = await runKensa(['predict', 'anomaly-2', '--model', String(modelId), '--wait'], env);
    ok(again);
    assert.match(again.stdout, /^anomaly-2\s+(OK|NG)\s+\d+\s+[\d.]+$/m);
    assert.match(again.stdout, /\d+ OK, \d+ NG/);
    const unknown = await runKensa(['predict', 'no-such-item', '--json'], env);
    ok(unknown, 1);
    assert.equal(json(unknown).error.title, 'Cannot find items');
  });

  it('inspects images synchronously, storing nothing', async () => {
    const run = await runKensa(['inspect', cookie('test/defect', 'anomaly-4.jpg'), cookie('test/good', 'test-normal-7.jpg'), '--fail-on-ng', '--json'], env);
    const answer = json(run);
    assert.equal(answer.model_id, modelId);
    assert.deepEqual(answer.results.map((r: { file_name: string }) => r.file_name), ['anomaly-4.jpg', 'test-normal-7.jpg']);
    ok(run, answer.results.some((r: { good: boolean }) => !r.good) ? 3 : 0);
    const table = await runKensa(['inspect', cookie('test/good', 'test-normal-7.jpg')], env);
    ok(table);
    assert.match(table.stdout, /^test-normal-7\.jpg\s+(OK|NG)\s+\d+\s+[\d.]+$/m);
    const items = json(await runKensa(['item', 'test-normal-7', '--json'], env));
    assert.equal(items.error.status, 404, 'inspect stored nothing');
  });

  it('shows an item and writes its overlay PNG', async () => {
    const out = join(home, 'overlays');
    const item = await runKensa(['item', 'anomaly-2', '--open', '--out', out], env);
    ok(item);
    assert.match(item.stdout, /^anomaly-2: prediction, done/m);
    assert.match(item.stdout, /Verdict (OK|NG), \d+ defect/);
    const files = await readdir(out);
    assert.equal(files.length, 1);
    const png = await readFile(join(out, files[0]));
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const missing = await runKensa(['item', 'no-such-item', '--json'], env);
    ok(missing, 1);
    assert.deepEqual(json(missing).error, { status: 404, title: 'No match for item_id!', detail: null, pointer: '/api/v1/item/no-such-item', message: 'No match for item_id! (404)' });
    const japanese = await runKensa(['item', 'no-such-item', '--language', 'ja'], env);
    ok(japanese, 1);
    assert.match(japanese.stderr, /Error: .*[\u3040-\u30ff\u4e00-\u9fff].*\(404\)/);
  });

  it('keeps a second inspection target apart, and shows a failed prediction as ERROR with its reason', async () => {
    const created = await runKensa(['targets', 'create', 'cli-line', '--json'], env);
    ok(created);
    const line = json(created);
    assert.equal(line.name, 'cli-line');
    const table = await runKensa(['targets'], env);
    ok(table);
    assert.match(table.stdout, new RegExp(`^\\s+${line.target_id}\\s+cli-line\\s+0\\s+0`, 'm'));
    ok(await runKensa(['targets', 'create', 'cli-empty'], env));
    const deleted = await runKensa(['targets', 'delete', 'cli-empty'], env);
    ok(deleted);
    assert.match(deleted.stdout, /Target cli-empty deleted/);
    assert.ok(!(await runKensa(['targets'], env)).stdout.includes('cli-empty'));
    ok(await runKensa(['upload', cookie('train/good', 'normal-10.jpg'), cookie('train/good', 'normal-11.jpg'), '--good', '--target', 'cli-line'], env));
    const train = await runKensa(['train', '--algorithm', 'PM', '--name', 'cli-line-model', '--param', `working_size=${QUICK_PARAMS.working_size}`, '--target', 'cli-line', '--wait', '--json'], env);
    ok(train);
    const lineModel = json(train);
    assert.equal(lineModel.target_id, line.target_id);
    assert.equal(lineModel.ok_img_count, 2, 'learned from the target\'s two images only');
    const lineModels = json(await runKensa(['models', '--target', 'cli-line', '--json'], env));
    assert.deepEqual(lineModels.map((m: { model_id: unknown }) => m.model_id), [lineModel.model_id]);
    const predicted = json(await runKensa(['predict', cookie('test/good', 'test-normal-8.jpg'), '--target', 'cli-line', '--wait', '--json'], env));
    assert.equal(predicted.items[0].error, null);
    assert.ok(['OK', 'NG'].includes(predicted.items[0].verdict));

    // The item's image vanishes from the data folder: predicting it again fails, and the CLI must not show the old verdict.
    const imagesDir = join(server.dataDir, 'images', Buffer.from('cli').toString('base64url'), Buffer.from('test-normal-8').toString('base64url'));
    for (const name of await readdir(imagesDir)) if (!name.endsWith('.thumb.jpg')) await rm(join(imagesDir, name));
    const failed = await runKensa(['predict', 'test-normal-8', '--wait'], env);
    ok(failed, 1);
    assert.match(failed.stdout, /^test-normal-8\s+ERROR\s/m);
    assert.match(failed.stderr, /test-normal-8: Prediction failed: /);
    assert.match(failed.stdout, /0 OK, 0 NG, 1 failed/);
  });

  it('creates a client, issues and activates its license', async () => {
    const created = await runKensa(['client', 'create', '--data-dir', server.dataDir, '--client-id', 'line-3', '--json'], env);
    ok(created);
    const { client_id, client_secret } = json(created);
    assert.equal(client_id, 'line-3');
    assert.ok(client_secret.length >= 16);
    const licensePath = join(home, 'line-3.license');
    ok(await runKensa(['license', 'issue', '--data-dir', server.dataDir, '--client-id', 'line-3', '--days', '30', '--out', licensePath], env));
    const asLine3 = { ...env, KENSA_API_URL: server.apiUrl, KENSA_CLIENT_ID: 'line-3', KENSA_CLIENT_SECRET: client_secret };
    const unlicensed = await runKensa(['train', '--algorithm', 'PM', '--json'], asLine3);
    ok(unlicensed, 1);
    assert.deepEqual([json(unlicensed).error.title, json(unlicensed).error.detail], ['Invalid license!', 'No active license']);
    const activate = await runKensa(['license', 'activate', licensePath, '--json'], asLine3);
    ok(activate);
    assert.deepEqual(json(activate), { status: 'ok' });
    const twice = await runKensa(['license', 'activate', licensePath], asLine3);
    ok(twice, 1);
    assert.match(twice.stderr, /Invalid license! \(403\): License already exists/);
  });

  it('exports a model signed, imports it back; an unsigned file only with --trust', async () => {
    const exportedPath = join(home, 'exported.kensa-model');
    ok(await runKensa(['models', 'export', String(modelId), '--out', exportedPath], env));
    const imported = await runKensa(['models', 'import', exportedPath, '--json'], env);
    ok(imported);
    assert.equal(json(imported).status, 'active');
    const signed = await readFile(exportedPath);
    const unsignedPath = join(home, 'unsigned.kensa-model');
    await writeFile(unsignedPath, signed.subarray(0, signed.length - (32 + 64 + 8)));
    const refused = await runKensa(['models', 'import', unsignedPath], env);
    ok(refused, 1);
    assert.match(refused.stderr, /Model file refused \(400\): The model file is not signed.*--trust/);
    const trusted = await runKensa(['models', 'import', unsignedPath, '--trust', '--json'], env);
    ok(trusted);
    await runKensa(['models', 'delete', String(json(imported).model_id), String(json(trusted).model_id)], env);
  });

  it('deletes the model', async () => {
    const deleted = await runKensa(['models', 'delete', String(modelId), '--json'], env);
    ok(deleted);
    const models = json(await runKensa(['models', '--json'], env));
    assert.ok(!models.some((m: { model_id: unknown }) => m.model_id === modelId));
    const gone = await runKensa(['models', 'delete', String(modelId)], env);
    ok(gone, 1);
    assert.match(gone.stderr, /^Error: No model found \(404\)\n$/);
  });
});

describe('kensa serve', { timeout: 60_000 }, () => {
  it('serves until SIGTERM, then exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kensa-serve-test-'));
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../src/main.ts'), 'serve', '--port', '0', '--data-dir', dataDir, '--bootstrap-client', 'svc:svc-secret', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const url = await new Promise<string>((done, fail) => {
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          const [first] = stdout.split('\n');
          if (stdout.includes('\n')) {
            try {
              done(JSON.parse(first).url);
            } catch (error) {
              fail(new Error(`serve --json printed ${first}: ${error}`));
            }
          }
        });
        child.on('close', (code) => fail(new Error(`serve exited ${code}: ${stderr}`)));
      });
      const token = await fetch(`${url.replace(/\/$/, '')}/api/auth/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'svc', client_secret: 'svc-secret', grant_type: 'client_credentials' }),
      });
      assert.equal(token.status, 200);
      const exited = new Promise<number | null>((done) => child.on('close', done));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
