import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/** The items page's routes at scale: compact rows with paging, bulk label / archive / move, and the client's preferences. */
let server: TestServer;
let alice: Api;
let bob: Api;

const rowsOf = async (query = '') => {
  const answer = await alice.get(`/api/v1/items/rows${query}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.data;
};
const bulk = (body: unknown, api = alice) => api.post('/api/v1/items/bulk', body);

before(async () => {
  server = await startTestServer();
  alice = await new Api(server.url).login('alice', 'alice-secret');
  bob = await new Api(server.url).login('bob', 'bob-secret');
});
after(async () => { await server.dispose(); });

test('rows page through a target in upload order, with a signed thumbnail template', async () => {
  await alice.upload([0, 1, 2, 3, 4].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const first = await rowsOf('?limit=2');
  assert.deepEqual(first.rows.map((r: any) => r.verdict), ['good', 'good']);
  assert.ok(first.next_cursor);
  assert.match(first.thumbnail_url, /\/api\/v1\/images\/\{image_id\}\/thumbnail\?token=/);
  const thumbnail = await fetch(first.thumbnail_url.replace('{image_id}', String(first.rows[0].image_id)));
  assert.equal(thumbnail.status, 200);
  const second = await rowsOf(`?limit=2&cursor=${first.next_cursor}`);
  const third = await rowsOf(`?limit=2&cursor=${second.next_cursor}`);
  assert.equal(third.next_cursor, null);
  const ids = [...first.rows, ...second.rows, ...third.rows].map((r: any) => r.item_id);
  assert.equal(new Set(ids).size, 5);
  assert.equal((await alice.get('/api/v1/items/rows?limit=0')).status, 400);
  assert.equal((await alice.get('/api/v1/items/rows?target=nowhere')).status, 404);
});

test('bulk label, archive and restore change every named item, or none when one is not the client\'s', async () => {
  const ids = (await rowsOf()).rows.map((r: any) => r.item_id);
  let answer = await bulk({ item_ids: ids.slice(0, 2), action: 'label', good: false });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.data.changed, 2);
  answer = await bulk({ item_ids: [ids[2]], action: 'label', good: null });
  assert.equal(answer.status, 200);
  const labels = Object.fromEntries((await rowsOf()).rows.map((r: any) => [r.item_id, r.verdict]));
  assert.deepEqual([labels[ids[0]], labels[ids[1]], labels[ids[2]], labels[ids[3]]], ['defect', 'defect', 'unlabelled', 'good']);
  const summary = (await alice.get('/api/v1/items')).body.data.summary.training_stats;
  assert.deepEqual(summary, { OK_count: 2, NG_count: 2, unlabelled_count: 1 });

  // Bob's item among Alice's ids: refused whole, in the envelope, naming it; nothing archived.
  const bobs = (await bob.upload([cookie('train/good', 9)], { training: 'true', good: 'true' })).body.data.item_ids[0];
  answer = await bulk({ item_ids: [ids[3], bobs], action: 'archive' });
  assert.equal(answer.status, 404);
  assert.equal(answer.body.errors.title, 'Cannot find items');
  assert.match(JSON.stringify(answer.body.errors.detail), new RegExp(bobs));
  assert.equal((await rowsOf()).rows.filter((r: any) => r.tab === 'archived').length, 0);

  answer = await bulk({ item_ids: [ids[3], ids[4]], action: 'archive' });
  assert.equal(answer.status, 200);
  assert.deepEqual((await rowsOf()).rows.filter((r: any) => r.tab === 'archived').map((r: any) => r.item_id).sort(), [ids[3], ids[4]].sort());
  assert.equal((await bulk({ item_ids: [ids[3]], action: 'restore' })).status, 200);
  assert.equal((await rowsOf()).rows.filter((r: any) => r.tab === 'archived').length, 1);
});

test('bulk requests are validated by schema and answered in the envelope, in Japanese too', async () => {
  const cases: unknown[] = [
    { item_ids: ['a'], action: 'label' }, // label needs good
    { item_ids: ['a'], action: 'move' }, // move needs target
    { item_ids: [], action: 'archive' },
    { item_ids: ['a'], action: 'explode' },
    { item_ids: ['a'], action: 'archive', extra: 1 },
  ];
  for (const body of cases) {
    const answer = await bulk(body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.body.errors.status, 400);
    assert.ok(answer.body.errors.source.pointer.endsWith('/api/v1/items/bulk'));
  }
  const japanese = await alice.withLanguage('ja').post('/api/v1/items/bulk', { item_ids: ['nobody-has-this'], action: 'archive' });
  assert.equal(japanese.status, 404);
  assert.match(JSON.stringify(japanese.body.errors.detail), /アクセス権/);
  assert.equal((await new Api(server.url).post('/api/v1/items/bulk', { item_ids: ['a'], action: 'archive' })).status, 401);
});

test('bulk move takes items with their predictions to another product line; both summaries follow', async () => {
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const trained = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'pm', override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  assert.equal((await alice.waitForModel(trained.body.data.model_id)).status, 'active');
  const predicted = (await alice.upload([cookie('test/good', 0), cookie('test/defect', 0)], { training: 'false' })).body.data.item_ids;
  assert.equal((await alice.post('/api/v1/serve', { item_ids: predicted })).status, 200);
  await alice.waitForItems(predicted);
  const predictRows = (await rowsOf()).rows.filter((r: any) => predicted.includes(r.item_id));
  assert.ok(predictRows.every((r: any) => r.results.length === 1 && typeof r.results[0].score === 'number' && ['OK', 'NG'].includes(r.verdict)));

  // A bulk NG review: the one the model called NG is confirmed, the other overridden.
  assert.equal((await bulk({ item_ids: predicted, action: 'label', good: false })).status, 200);
  const reviewed = (await rowsOf()).rows.filter((r: any) => predicted.includes(r.item_id));
  assert.ok(reviewed.every((r: any) => r.reviewed && r.verdict === 'NG'));
  const before = (await alice.get('/api/v1/items')).body.data.summary.predict_stats[0];
  assert.equal(before.done_count, 2);

  const line = (await alice.post('/api/v1/targets', { name: 'line-B' })).body.data;
  assert.equal((await bulk({ item_ids: predicted, action: 'move', target: 'nowhere' })).status, 404);
  const moved = await bulk({ item_ids: predicted, action: 'move', target: line.target_id });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.deepEqual((await rowsOf(`?target=${line.target_id}`)).rows.map((r: any) => r.item_id).sort(), [...predicted].sort());
  assert.equal((await rowsOf()).rows.filter((r: any) => predicted.includes(r.item_id)).length, 0);
  assert.deepEqual((await alice.get('/api/v1/items')).body.data.summary.predict_stats, []);
  const after = (await alice.get(`/api/v1/items?target=${line.target_id}`)).body.data.summary.predict_stats[0];
  assert.deepEqual({ done: after.done_count, confirmed: after.confirmed_count }, { done: 2, confirmed: before.confirmed_count });
});

test('preferences remember a product line of the client only', async () => {
  assert.deepEqual((await alice.get('/api/v1/preferences')).body.data, { target_id: null });
  const line = (await alice.get('/api/v1/targets')).body.data.find((t: any) => t.name === 'line-B');
  assert.equal((await alice.request('PUT', '/api/v1/preferences', { target_id: line.target_id })).status, 200);
  assert.deepEqual((await alice.get('/api/v1/preferences')).body.data, { target_id: line.target_id });
  assert.deepEqual((await bob.get('/api/v1/preferences')).body.data, { target_id: null }, 'per client');
  assert.equal((await bob.request('PUT', '/api/v1/preferences', { target_id: line.target_id })).status, 404, "another client's line");
  assert.equal((await alice.request('PUT', '/api/v1/preferences', { target_id: 'line-B' })).status, 400);
  const openapi = (await alice.get('/api/openapi.json')).body;
  for (const path of ['/api/v1/items/rows', '/api/v1/items/bulk', '/api/v1/preferences']) assert.ok(openapi.paths[path], `${path} is documented`);
});

test("a model's held-out images: every labelled training image with its label and held-out score, for its client only", async () => {
  const line = (await alice.post('/api/v1/targets', { name: 'eval-line' })).body.data;
  const good = (await alice.upload([10, 11, 12, 13].map((i) => cookie('train/good', i)), { training: 'true', good: 'true', target: 'eval-line' })).body.data.item_ids;
  const defect = (await alice.upload([1, 2].map((i) => cookie('test/defect', i)), { training: 'true', good: 'false', target: 'eval-line' })).body.data.item_ids;
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const trained = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'eval', target: line.target_id, override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  assert.equal((await alice.waitForModel(trained.body.data.model_id)).status, 'active');
  const answer = await alice.get(`/api/v1/models/${trained.body.data.model_id}/evaluation`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const heldOut = answer.body.data.held_out;
  assert.deepEqual(heldOut.map((h: any) => h.item_id).sort(), [...good, ...defect].sort(), 'every labelled image, named by its item');
  for (const h of heldOut) {
    assert.equal(h.good, good.includes(h.item_id));
    assert.equal(typeof h.score, 'number');
  }
  assert.equal(typeof answer.body.data.threshold, 'number');
  assert.match(answer.body.data.thumbnail_url, /\{image_id\}/);
  assert.equal((await bob.get(`/api/v1/models/${trained.body.data.model_id}/evaluation`)).status, 404, "another client's model");
  assert.equal((await alice.get('/api/v1/models/abc/evaluation')).status, 400);
  assert.ok((await alice.get('/api/openapi.json')).body.paths['/api/v1/models/{model_id}/evaluation']);
});

test('audit export: predictions of a date range as CSV (quoted, formula-guarded) or JSON, with the reviewer\'s decision', async () => {
  const { csvCell } = await import('../src/services/audit-export.service.ts');
  assert.equal(csvCell('=1+2'), "'=1+2");
  assert.equal(csvCell('-cmd'), "'-cmd");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('a "b", c'), '"a ""b"", c"');
  assert.equal(csvCell('+x,y'), `"'+x,y"`);
  assert.equal(csvCell(-0.5), '-0.5', 'numbers are not text');

  // Line B holds the two predictions reviewed NG above; a line with a name a spreadsheet would run takes them.
  const evil = (await alice.post('/api/v1/targets', { name: '=HYPERLINK("http://x","click"),1' })).body.data;
  const lineB = (await alice.get('/api/v1/targets')).body.data.find((t: any) => t.name === 'line-B');
  const moved = (await rowsOf(`?target=${lineB.target_id}`)).rows.map((r: any) => r.item_id);
  assert.equal((await bulk({ item_ids: moved, action: 'move', target: evil.target_id })).status, 200);
  const today = new Date().toISOString().slice(0, 10);
  const json = await alice.get(`/api/v1/audit/predictions?target=${evil.target_id}&from=${today}&to=${today}&format=json`);
  assert.equal(json.status, 200, JSON.stringify(json.body));
  const rows = json.body.data.rows;
  assert.deepEqual(rows.map((r: any) => r.item_id).sort(), [...moved].sort());
  for (const row of rows) {
    assert.equal(row.final_verdict, 'NG', 'the reviewer said NG');
    assert.equal(row.review, row.verdict === 'NG' ? 'confirmed' : 'overridden');
    assert.equal(row.model_name, 'pm');
    assert.match(row.model_version, /^model-/);
    assert.equal(typeof row.threshold, 'number');
  }

  const csv = await fetch(`${server.url}/api/v1/audit/predictions?target=${evil.target_id}&from=${today}&to=${today}`, { headers: { authorization: `Bearer ${alice.token}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="kensa-predictions-/);
  const text = (await csv.text()).replace(/^\uFEFF/, '');
  const lines = text.trimEnd().split('\r\n');
  assert.equal(lines[0], 'finished_at,item_id,product_line,model_id,model_name,model_version,algorithm,threshold,score,verdict,review,final_verdict');
  assert.equal(lines.length, 1 + moved.length);
  assert.ok(lines[1].includes(`"'=HYPERLINK(""http://x"",""click""),1"`), `the line's name is guarded and quoted: ${lines[1]}`);

  // Nothing outside the range; a range the wrong way round and a malformed day are refused in the envelope.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  assert.deepEqual((await alice.get(`/api/v1/audit/predictions?target=${evil.target_id}&from=${yesterday}&to=${yesterday}&format=json`)).body.data.rows, []);
  const inverted = await alice.get(`/api/v1/audit/predictions?from=${today}&to=${yesterday}`);
  assert.equal(inverted.status, 400);
  assert.match(JSON.stringify(inverted.body.errors.detail), /from/);
  assert.equal((await alice.get('/api/v1/audit/predictions?from=2026-1-1&to=2026-01-02')).status, 400);
  assert.equal((await bob.get(`/api/v1/audit/predictions?target=${evil.target_id}&from=${today}&to=${today}`)).status, 404, "another client's line");
});
