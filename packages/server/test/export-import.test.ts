import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/**
 * Issue 6: an exported model imported on another installation predicts identically. Both installations inspect
 * the same cookies; verdicts, scores, boxes and detection accuracy must be equal to the last bit.
 */
let original: TestServer;
/** The model the first test trains on `original` (alice's). */
let modelId: number;
let other: TestServer;

before(async () => {
  original = await startTestServer();
  other = await startTestServer();
});
after(async () => {
  await original.dispose();
  await other.dispose();
});

async function exportModel(api: Api, modelId: number): Promise<Uint8Array> {
  const answer = await fetch(`${api.baseUrl}/api/v1/models/${modelId}/export`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } });
  assert.equal(answer.status, 200);
  return new Uint8Array(await answer.arrayBuffer());
}

async function inspect(api: Api, modelId: number, files: { name: string; bytes: Uint8Array }[]) {
  const form = new FormData();
  form.append('model_id', String(modelId));
  files.forEach((file, i) => form.append(`files[${i}]`, new Blob([new Uint8Array(file.bytes)]), file.name));
  const answer = await api.request('POST', '/api/v1/inspect', undefined, { form });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.data.model_id, modelId);
  // URLs name the installation, not the prediction.
  return answer.body.data.results.map(({ heatmap_url: _url, ...result }: Record<string, unknown>) => result);
}

test('export → import on another installation: byte-identical verdicts, scores, boxes; export is deterministic', async () => {
  const alice = await new Api(original.url).login('alice', 'alice-secret');
  await alice.upload([0, 1, 2, 3, 4].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const trained = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'portable', override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  modelId = trained.body.data.model_id;
  assert.equal((await alice.waitForModel(modelId)).status, 'active');

  const exported = await exportModel(alice, modelId);
  assert.deepEqual(await exportModel(alice, modelId), exported, 'a second export gives the same bytes');

  const bob = await new Api(other.url).login('bob', 'bob-secret');
  const form = new FormData();
  form.append('model', new Blob([new Uint8Array(exported)]), 'portable.kensa-model');
  // Signed by the other installation: imported because the caller says it trusts it.
  form.append('trust', 'true');
  const imported = await bob.request('POST', '/api/v1/models/import', undefined, { form });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  const importedId: number = imported.body.data.model_id;

  const cookies = [cookie('test/good', 0), cookie('test/good', 5), cookie('test/defect', 1), cookie('test/defect', 7)];
  const here = await inspect(alice, modelId, cookies);
  const there = await inspect(bob, importedId, cookies);
  assert.equal(here.length, cookies.length);
  assert.deepEqual(here.map((r: any) => r.file_name), cookies.map((c) => c.name));
  for (const result of here) {
    assert.equal(typeof result.score, 'number');
    assert.ok(Number.isFinite(result.score));
    assert.equal(typeof result.good, 'boolean');
  }
  // JSON numbers round-trip doubles exactly, so deepEqual on the parsed answers is a bit-for-bit comparison.
  assert.deepEqual(there, here);
});

/** A model file's own SHA-256 (its last 32 bytes) recomputed after an edit: what a forger does to pass the checksum. */
function rehashed(model: Uint8Array): Uint8Array {
  const copy = new Uint8Array(model);
  const digest = createHash('sha256').update(copy.subarray(0, copy.length - 32)).digest();
  copy.set(digest, copy.length - 32);
  return copy;
}

async function importFile(api: Api, bytes: Uint8Array, trust: boolean) {
  const form = new FormData();
  form.append('model', new Blob([new Uint8Array(bytes)]), 'checked.kensa-model');
  if (trust) form.append('trust', 'true');
  return api.request('POST', '/api/v1/models/import', undefined, { form });
}

test('exports are signed with the installation\'s Ed25519 key: an edited and re-hashed file is refused; unsigned or foreign files only with trust', async () => {
  const alice = await new Api(original.url).login('alice', 'alice-secret');
  const bob = await new Api(other.url).login('bob', 'bob-secret');
  const exported = await exportModel(alice, modelId);
  const trailer = 32 + 64 + 8;
  assert.equal(new TextDecoder().decode(exported.subarray(exported.length - 8)), 'KENSASG1');
  const model = exported.subarray(0, exported.length - trailer);

  // Its own export comes back into the installation that signed it without being asked to trust it.
  assert.equal((await importFile(alice, exported, false)).status, 200);

  // Another installation's: refused, saying plainly why and what to do; imported with trust.
  const foreign = await importFile(bob, exported, false);
  assert.equal(foreign.status, 400);
  assert.match(foreign.body.errors.detail, /signed by another installation \(key [0-9a-f]{16}\).*trust=true \(CLI: --trust\)/);

  // One byte of the model changed and its checksum recomputed: the signature no longer matches, trusted or not.
  const edited = new Uint8Array(model);
  edited[200] ^= 0x01;
  const forged = new Uint8Array([...rehashed(edited), ...exported.subarray(model.length)]);
  for (const trust of [false, true]) {
    const refused = await importFile(alice, forged, trust);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.errors.title, 'Model file refused');
    assert.match(refused.body.errors.detail, /changed after it was exported/);
  }

  // Without its signature: refused unless trusted; trusted, the format's own checks still apply.
  const unsigned = await importFile(alice, model, false);
  assert.equal(unsigned.status, 400);
  assert.match(unsigned.body.errors.detail, /not signed.*trust=true/);
  assert.equal((await importFile(alice, model, true)).status, 200);
  const corrupt = new Uint8Array(model);
  corrupt[200] ^= 0x01;
  assert.match((await importFile(alice, corrupt, true)).body.errors.detail, /checksum/);
  const japanese = await alice.withLanguage('ja').request('POST', '/api/v1/models/import', undefined, { form: (() => { const f = new FormData(); f.append('model', new Blob([new Uint8Array(model)]), 'm.kensa-model'); return f; })() });
  assert.match(japanese.body.errors.detail, /署名がない/);
});
