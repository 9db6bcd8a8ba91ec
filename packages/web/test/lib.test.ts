/** The UI's pure parts: item filtering and paging at scale, the parameter form's checks, histogram, review order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlgorithmParameter, Item } from '@kensa/sdk';
import { filterItems, NO_FILTER, pageOf, verdictOf } from '../src/lib/items.ts';
import { checkValue, displayValue, overridesFor, parseRange } from '../src/lib/parameters.ts';
import { scoreHistogram } from '../src/lib/histogram.ts';
import { reviewOrder } from '../src/lib/scores.ts';
import { translator } from '../src/i18n/i18n.tsx';
import { en, ja } from '../src/i18n/messages.ts';

function item(id: string, change: Partial<Item> = {}): Item {
  return {
    item_id: id, label: null, description: null, created_at: '2026-01-01T00:00:00Z', finished_date: null, default_image: null,
    thumbnail_image: null, is_training_data: false, good: null, status: 'pending', detected_objects: null,
    confirmed_assessment: null, override_assessment: null, models: [], ...change,
  };
}

test('verdicts: training labels, pending, the newest model, a review over the model', () => {
  assert.equal(verdictOf(item('a', { is_training_data: true, good: true })), 'good');
  assert.equal(verdictOf(item('a', { is_training_data: true, good: false })), 'defect');
  assert.equal(verdictOf(item('a', { is_training_data: true })), 'unlabelled');
  assert.equal(verdictOf(item('a')), 'pending');
  const twoModels = [
    { model_id: 1, aggregate: { label: 'NG' as const, detected_objects: 2 } },
    { model_id: 2, aggregate: { label: 'OK' as const, detected_objects: 0 } },
  ];
  assert.equal(verdictOf(item('a', { status: 'done', models: twoModels })), 'OK');
  assert.equal(verdictOf(item('a', { status: 'done', models: twoModels, confirmed_assessment: true, good: false })), 'NG');
});

test('10,000 items: filtering and paging stay well under a frame', (t) => {
  const items = Array.from({ length: 10_000 }, (_, i) =>
    item(`lot-${String(i).padStart(5, '0')}`, i % 3 === 0 ? { status: 'done', models: [{ model_id: 1, aggregate: { label: i % 2 ? 'NG' : 'OK', detected_objects: 0 } }] } : {}),
  );
  // The best of five runs: the machine is shared, and a busy neighbour is not the code's time.
  let elapsed = Infinity;
  let byText: Item[] = [];
  let ng: Item[] = [];
  let page = pageOf<Item>([], 1, 48);
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    byText = filterItems(items, { ...NO_FILTER, text: 'LOT-012' });
    ng = filterItems(items, { text: '', status: 'done', verdict: 'NG' });
    page = pageOf(ng, 9999, 48);
    elapsed = Math.min(elapsed, performance.now() - started);
  }
  assert.equal(byText.length, 100); // lot-01200 … lot-01299
  assert.equal(ng.length, items.filter((_, i) => i % 3 === 0 && i % 2 === 1).length);
  assert.equal(page.page, page.pages, 'a page past the end is clamped to the last');
  assert.ok(page.rows.length > 0 && page.rows.length <= 48);
  assert.equal(filterItems(items, NO_FILTER), items, 'no filter: no copy');
  t.diagnostic(`two filters and a page over 10,000 items: ${elapsed.toFixed(1)} ms`);
  assert.ok(elapsed < 16, `filtering 10,000 items took ${elapsed.toFixed(1)} ms`);
});

test('parameter ranges in the forms a schema gives them, and the checks before sending', () => {
  assert.deepEqual(parseRange('int in [1, 1000000]'), { min: 1, max: 1_000_000 });
  assert.deepEqual(parseRange('(int, int), each in [2, 256]'), { min: 2, max: 256 });
  assert.deepEqual(parseRange('float in [0, ∞)'), { min: 0, max: null });
  assert.deepEqual(parseRange([1, null]), { min: 1, max: null });
  assert.equal(parseRange('anything'), null);
  const int: AlgorithmParameter = { algorithm_parameter_id: 1, name: 'working_size', data_type: 'int', value: '256', range: 'int in [32, 4096]' };
  const tuple: AlgorithmParameter = { algorithm_parameter_id: 2, name: 'min_inspection_size', data_type: 'tuple', value: '[16, 16]', range: '(int, int), each in [2, 256]' };
  const tuned: AlgorithmParameter = { algorithm_parameter_id: 3, name: 'n_components', data_type: 'int', value: '10', auto_tune: [3, 5, 10] };
  assert.equal(checkValue(int, '64'), null);
  assert.equal(checkValue(int, '5'), 'outOfRange');
  assert.equal(checkValue(int, '6.5'), 'invalidNumber');
  assert.equal(checkValue(tuple, '8, 8'), null);
  assert.equal(checkValue(tuple, '8, x'), 'invalidTuple');
  assert.equal(checkValue(tuple, '1, 8'), 'outOfRange');
  assert.equal(displayValue('[16, 16]'), '16, 16');
  // Unchanged plain parameters are left to the server; a tuned one is sent only when the person fixed it.
  const overrides = overridesFor([int, tuple, tuned], {
    1: { text: '256', autoTune: false },
    2: { text: '8, 8', autoTune: false },
    3: { text: '10', autoTune: true },
  });
  assert.deepEqual(overrides, [{ algorithm_parameter_id: 2, value: '[8, 8]' }]);
  assert.deepEqual(overridesFor([tuned], { 3: { text: '10', autoTune: false } }), [{ algorithm_parameter_id: 3, value: '10' }]);
});

test('score histogram: bins cover the scores and the threshold, OK and NG counted apart', () => {
  const bins = scoreHistogram([{ score: 0.2, label: 'OK' }, { score: 0.3, label: 'OK' }, { score: 1.8, label: 'NG' }], 2.5, 10);
  assert.equal(bins.length, 10);
  assert.equal(bins[0].from, 0.2);
  assert.ok(Math.abs(bins[9].to - 2.5) < 1e-9);
  assert.equal(bins.reduce((n, b) => n + b.ok, 0), 2);
  assert.equal(bins.reduce((n, b) => n + b.ng, 0), 1);
  assert.deepEqual(scoreHistogram([], null), []);
});

test('review order: NG first, then the scores nearest the threshold', () => {
  const scored = (id: string, score: number, label: 'OK' | 'NG') => ({ item: item(id), score, label, confirmed: false });
  const order = reviewOrder([scored('far-ok', 0.1, 'OK'), scored('near-ok', 0.95, 'OK'), scored('ng', 3, 'NG'), scored('near-ng', 1.05, 'NG')], 1);
  assert.deepEqual(order.map((s) => s.item.item_id), ['near-ng', 'ng', 'near-ok', 'far-ok']);
});

test('both catalogues: the same keys, placeholders kept, Japanese text in Japanese', () => {
  assert.deepEqual(Object.keys(ja).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(ja[key]), names(en[key]), `placeholders of ${key}`);
  }
  // Only the words that are the same in both languages may stay untranslated.
  const untranslated = (Object.keys(en) as (keyof typeof en)[]).filter((key) => !/[\u3040-\u30ff\u4e00-\u9faf]/.test(ja[key]));
  assert.deepEqual(untranslated.sort(), ['ngCount', 'okCount', 'verdictNG', 'verdictOK']);
  assert.equal(translator('ja')('uploadStart', { count: 3 }), '3 件をアップロード');
  assert.equal(translator('en')('itemCount', { shown: 48, total: 10000 }), 'Showing 48 of 10000');
});
