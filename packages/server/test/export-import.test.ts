import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/**
 * Issue 6: an exported model imported on another installation predicts identically. Both installations inspect
 * the same cookies; verdicts, scores, boxes and detection accuracy must be equal to the last bit.
 */
let original: TestServer;
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
  const modelId: number = trained.body.data.model_id;
  assert.equal((await alice.waitForModel(modelId)).status, 'active');

  const exported = await exportModel(alice, modelId);
  assert.deepEqual(await exportModel(alice, modelId), exported, 'a second export gives the same bytes');

  const bob = await new Api(other.url).login('bob', 'bob-secret');
  const form = new FormData();
  form.append('model', new Blob([new Uint8Array(exported)]), 'portable.kensa-model');
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
