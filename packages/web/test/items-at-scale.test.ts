/** The items page's pure parts at scale: row filters over 10,000 rows, selection ranges, the virtual window, keyboard moves, folder-upload plans. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ItemRow } from '@kensa/sdk';
import { filterRows, moveFocus, NO_ROW_FILTER, rangeIds, verdictUnder, visibleWindow } from '../src/lib/item-rows.ts';
import { etaSeconds, formatDuration, planUpload, uploadKey } from '../src/lib/folder-upload.ts';
import type { UploadJournal } from '../src/lib/folder-upload.ts';

function row(id: string, change: Partial<ItemRow> = {}): ItemRow {
  return {
    item_id: id, target_id: 1, tab: 'predict', is_training_data: false, verdict: 'pending', status: 'pending', prediction_failed: false,
    reviewed: false, overridden: false, created_at: '2026-11-01T08:00:00.000Z', finished_date: null, image_id: 1, results: [], ...change,
  };
}

const predicted = (id: string, model: number, score: number, good: boolean, day: string) =>
  row(id, { status: 'done', verdict: good ? 'OK' : 'NG', finished_date: `${day}T10:00:00.000Z`, results: [{ model_id: model, score, good, threshold: 0.5, finished_date: `${day}T10:00:00.000Z` }] });

test('row filters: verdict, review state, model, score range and dates, alone and together', () => {
  const rows = [
    predicted('a', 1, 0.2, true, '2026-11-02'),
    predicted('b', 1, 0.9, false, '2026-11-03'),
    { ...predicted('c', 2, 0.7, false, '2026-11-04'), reviewed: true, overridden: true, verdict: 'OK' as const },
    row('d'),
    row('t', { tab: 'training', is_training_data: true, verdict: 'good' }),
  ];
  const ids = (filter: Partial<typeof NO_ROW_FILTER>) => filterRows(rows, 'predict', { ...NO_ROW_FILTER, ...filter }).map((r) => r.item_id);
  assert.deepEqual(ids({}), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids({ verdict: 'NG' }), ['b']);
  assert.deepEqual(ids({ verdict: 'OK' }), ['a', 'c'], "a person's review wins over the model");
  assert.deepEqual(ids({ review: 'reviewed' }), ['c']);
  assert.deepEqual(ids({ review: 'unreviewed' }), ['a', 'b', 'd']);
  assert.deepEqual(ids({ modelId: 1 }), ['a', 'b']);
  assert.deepEqual(ids({ scoreMin: 0.5 }), ['b', 'c'], 'an item without a score is left out by a bound');
  assert.deepEqual(ids({ scoreMin: 0.5, scoreMax: 0.8 }), ['c']);
  assert.deepEqual(ids({ from: '2026-11-03', to: '2026-11-03' }), ['b']);
  assert.deepEqual(ids({ from: '2026-11-03', verdict: 'NG', modelId: 1 }), ['b']);
  assert.equal(verdictUnder(rows[2], 2), 'OK');
});

test('10,000 rows filter in a few milliseconds', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => predicted(`lot-${i}`, 1 + (i % 2), (i % 100) / 100, i % 3 !== 0, `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`));
  const started = performance.now();
  const shown = filterRows(rows, 'predict', { ...NO_ROW_FILTER, text: 'lot-1', verdict: 'NG', scoreMin: 0.1, from: '2026-11-05' });
  const elapsed = performance.now() - started;
  assert.ok(shown.length > 0 && shown.every((r) => r.verdict === 'NG'));
  assert.ok(elapsed < 100, `filtering took ${elapsed.toFixed(1)} ms`);
});

test('selection ranges go either way; keyboard moves stay inside the grid', () => {
  const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => row(id));
  assert.deepEqual(rangeIds(rows, 1, 3), ['b', 'c', 'd']);
  assert.deepEqual(rangeIds(rows, 3, 1), ['b', 'c', 'd']);
  assert.equal(moveFocus('ArrowDown', 2, 10, 4, 2), 6);
  assert.equal(moveFocus('ArrowDown', 8, 10, 4, 2), 9, 'the last row is shorter: the last item');
  assert.equal(moveFocus('ArrowUp', 1, 10, 4, 2), 0);
  assert.equal(moveFocus('PageDown', 0, 100, 4, 3), 12);
  assert.equal(moveFocus('End', 0, 100, 4, 3), 99);
  assert.equal(moveFocus('x', 0, 100, 4, 3), null);
});

test('the virtual window draws the rows in view and a few more, whatever the count', () => {
  const top = visibleWindow(0, 700, 236, 6, 10_000);
  assert.equal(top.firstRow, 0);
  assert.ok(top.lastRow <= 6, `rows drawn at the top: ${top.lastRow + 1}`);
  assert.equal(top.totalHeight, Math.ceil(10_000 / 6) * 236);
  const end = visibleWindow(top.totalHeight - 700, 700, 236, 6, 10_000);
  assert.equal(end.lastRow, end.gridRows - 1);
  assert.ok(end.lastRow - end.firstRow < 10);
  // Scrolled to the end of 10,000, then a filter leaves 3: those 3 are drawn before the browser's scroll catches up.
  const shrunk = visibleWindow(end.totalHeight - 700, 700, 236, 6, 3);
  assert.deepEqual([shrunk.firstRow, shrunk.lastRow], [0, 0]);
  assert.deepEqual(visibleWindow(5_000, 700, 236, 6, 0).lastRow, -1, 'nothing to draw: no rows');
});

test('folder plans: a resume skips what the journal or the server has; same-named files are refused, not merged', () => {
  const files = ['a.png', 'b.png', 'c.png', 'd.png'].map((name, i) => ({ name, size: 100 + i, lastModified: 1, webkitRelativePath: `shots/${name}` }));
  const clash = { name: 'a.png', size: 5, lastModified: 2, webkitRelativePath: 'shots/sub/a.png' };
  assert.notEqual(uploadKey(files[0]), uploadKey(clash), 'the key tells files of one name apart');
  assert.equal(uploadKey(files[0]), uploadKey({ ...files[0] }), 'the same file picked again has the same key');

  const fresh = planUpload(files, null, new Set(['b']));
  assert.deepEqual(fresh.send.map((f) => f.name), ['a.png', 'b.png', 'c.png', 'd.png'], 'a new upload sends all (the server keeps identical images once)');
  const journal: UploadJournal = { folder: 'shots', target: 1, kind: 'good', total: 4, done: [uploadKey(files[0])], startedAt: '' };
  const resumed = planUpload(files, journal, new Set(['b']));
  assert.deepEqual(resumed.skipped.map((f) => f.name), ['a.png', 'b.png'], 'journalled, and on the server though the answer was lost');
  assert.deepEqual(resumed.send.map((f) => f.name), ['c.png', 'd.png']);
  assert.deepEqual(planUpload([...files, clash], null, new Set()).clashing.map((f) => f.webkitRelativePath), ['shots/a.png', 'shots/sub/a.png']);
});

test('time left at the pace so far', () => {
  assert.equal(etaSeconds(0, 1000, 5000), null);
  assert.equal(etaSeconds(250, 1000, 10_000), 30);
  assert.equal(formatDuration(75), '1 min 15 s');
  assert.equal(formatDuration(3720), '1 h 2 min');
});

test('evaluation: ROC with its area, precision–recall, the confusion matrix, flips and worst misses at a threshold', async () => {
  const { confusionAt, flipsBetween, prCurve, rocCurve, sharedImages, worstMisses } = await import('../src/lib/evaluation.ts');
  const images = [
    { good: true, score: 0.1 }, { good: true, score: 0.2 }, { good: true, score: 0.6 },
    { good: false, score: 0.5 }, { good: false, score: 0.8 }, { good: false, score: 0.9 },
  ];
  const roc = rocCurve(images)!;
  // Of the 9 (NG, OK) pairs, the NG scores higher in 8: AUROC 8/9.
  assert.ok(Math.abs(roc.auc - 8 / 9) < 1e-9, `AUROC ${roc.auc}`);
  assert.deepEqual(roc.points.at(-1), { x: 1, y: 1, threshold: -Infinity });
  const pr = prCurve(images)!;
  assert.deepEqual(pr[0], { x: 1 / 3, y: 1, threshold: 0.8 });
  assert.deepEqual(confusionAt(images, 0.55), { tp: 2, fp: 1, tn: 2, fn: 1, precision: 2 / 3, recall: 2 / 3 });
  assert.deepEqual(confusionAt(images, 0.3), { tp: 3, fp: 1, tn: 2, fn: 0, precision: 3 / 4, recall: 1 });
  const flips = flipsBetween(images, 0.55, 0.3);
  assert.deepEqual(flips.toNg.map((i) => i.score), [0.5]);
  assert.equal(flips.toOk.length, 0);
  const misses = worstMisses(images, 0.55);
  assert.deepEqual(misses.falseAlarms.map((i) => i.score), [0.6]);
  assert.deepEqual(misses.escapes.map((i) => i.score), [0.5]);
  assert.equal(rocCurve(images.filter((i) => i.good)), null, 'no ROC without NG images');
  const [a, b] = sharedImages([{ image_id: 1 }, { image_id: 2 }, { image_id: null }], [{ image_id: 2 }, { image_id: 3 }]);
  assert.deepEqual([a, b], [[{ image_id: 2 }], [{ image_id: 2 }]]);
});
