import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aupro, auroc, bestF1Threshold, confusionAt, labelComponents, pixelAuroc } from '../src/metrics/index.ts';
import { Random } from '../src/kernels/random.ts';
import type { FloatMap } from '../src/image/raster.ts';

/** The definition: the fraction of (positive, negative) pairs ordered rightly, ties counting one half. */
function slowAuroc(scores: number[], positive: boolean[]): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('AUROC of a hand-computed case', () => {
  // positives 0.35, 0.8; negatives 0.1, 0.4: pairs (0.35>0.1 ✓) (0.35>0.4 ✗) (0.8>0.1 ✓) (0.8>0.4 ✓) = 3/4
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  // ties count one half: positive 0.5 vs negatives 0.5 and 0.2 → (0.5 + 1) / 2
  assert.equal(auroc([0.5, 0.5, 0.2], [true, false, false]), 0.75);
  assert.equal(auroc([1, 2, 3, 4], [false, false, true, true]), 1);
  assert.equal(auroc([1, 2, 3, 4], [true, true, false, false]), 0);
  assert.ok(Number.isNaN(auroc([1, 2], [true, true])), 'undefined without negatives');
});

test('AUROC equals the pair-counting definition on random scores with ties', () => {
  const random = new Random(3);
  for (let trial = 0; trial < 50; trial++) {
    const n = 2 + random.int(60);
    const scores = Array.from({ length: n }, () => random.int(12) / 4); // few distinct values: many ties
    const positive = Array.from({ length: n }, () => random.next() < 0.4);
    if (!positive.includes(true) || !positive.includes(false)) continue;
    assert.ok(Math.abs(auroc(scores, positive) - slowAuroc(scores, positive)) < 1e-12);
  }
});

test('pixel AUROC of maps that are mostly one value takes linear time, not a rescan of the ties per positive', () => {
  // RC's maps are 0 below its noise level: a million tied negatives against 100 000 tied positives took minutes.
  const positives = new Float32Array(100_000);
  const negatives = new Float32Array(1_000_000);
  positives.fill(1, 50_000);
  const started = performance.now();
  const value = pixelAuroc([{ width: 1000, height: 100, data: positives }, { width: 1000, height: 1000, data: negatives }],
    [{ width: 1000, height: 100, data: new Float32Array(100_000).fill(1) }, { width: 1000, height: 1000, data: new Float32Array(1_000_000) }]);
  assert.equal(value, 0.75); // half the positives tie with every negative (½), half are above all of them (1)
  assert.ok(performance.now() - started < 2000, `${(performance.now() - started).toFixed(0)} ms`);
});

test('best-F1 threshold is the best of every possible cut, and gives the F1 it claims', () => {
  const random = new Random(5);
  for (let trial = 0; trial < 40; trial++) {
    const n = 3 + random.int(40);
    const defective = Array.from({ length: n }, () => random.next() < 0.4);
    if (!defective.includes(true)) continue;
    const scores = defective.map((d) => random.int(10) + (d ? 3 : 0));
    const choice = bestF1Threshold(scores, defective);
    let best = 0;
    for (const cut of [...new Set(scores)].map((s) => s - 0.5)) best = Math.max(best, confusionAt(scores, defective, cut).f1);
    assert.ok(Math.abs(choice.f1 - best) < 1e-12, `f1 ${choice.f1} vs best ${best}`);
    const at = confusionAt(scores, defective, choice.threshold);
    assert.ok(Math.abs(at.f1 - choice.f1) < 1e-12, 'the threshold reproduces the F1');
    assert.ok(Math.abs(at.precision - choice.precision) < 1e-12 && Math.abs(at.recall - choice.recall) < 1e-12);
  }
});

test('confusion counts at a threshold (score > threshold is NG)', () => {
  const c = confusionAt([0.1, 0.5, 0.9, 0.5], [false, true, true, false], 0.5);
  assert.deepEqual({ tp: c.tp, fp: c.fp, tn: c.tn, fn: c.fn }, { tp: 1, fp: 0, tn: 2, fn: 1 });
  assert.equal(c.precision, 1);
  assert.equal(c.recall, 0.5);
});

function randomMapPair(random: Random, width: number, height: number): { map: FloatMap; mask: FloatMap } {
  const mask = new Float32Array(width * height);
  // two rectangles of defect
  for (let r = 0; r < 2; r++) {
    const x0 = random.int(width - 4), y0 = random.int(height - 4);
    for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 4; x++) mask[y * width + x] = 1;
  }
  const map = new Float32Array(width * height);
  for (let i = 0; i < map.length; i++) map[i] = random.next();
  return { map: { width, height, data: map }, mask: { width, height, data: mask } };
}

test('pixel AUROC is the AUROC of all pixels pooled', () => {
  const random = new Random(9);
  const pairs = [randomMapPair(random, 12, 9), randomMapPair(random, 12, 9)];
  for (const p of pairs) for (let i = 0; i < p.map.data.length; i++) p.map.data[i] += p.mask.data[i] * 0.3;
  const scores = pairs.flatMap((p) => Array.from(p.map.data));
  const labels = pairs.flatMap((p) => Array.from(p.mask.data, (v) => v > 0.5));
  assert.ok(Math.abs(pixelAuroc(pairs.map((p) => p.map), pairs.map((p) => p.mask)) - slowAuroc(scores, labels)) < 1e-9);
});

test('AUPRO: 1 for a perfect map, near chance for noise, near 0 for an inverted map', () => {
  const random = new Random(11);
  const perfect = [], noise = [], inverted = [];
  for (let k = 0; k < 6; k++) {
    const { map, mask } = randomMapPair(random, 40, 30);
    perfect.push({ map: mask, mask });
    noise.push({ map, mask });
    inverted.push({ map: { ...mask, data: mask.data.map((v) => 1 - v + random.next() * 0.01) }, mask });
  }
  const score = (list: { map: FloatMap; mask: FloatMap }[]) => aupro(list.map((p) => p.map), list.map((p) => p.mask));
  assert.ok(Math.abs(score(perfect) - 1) < 1e-9, `perfect ${score(perfect)}`);
  // random scores: per-region overlap ≈ false-positive rate, so the normalised area to 30 % is ≈ 0.15
  assert.ok(Math.abs(score(noise) - 0.15) < 0.06, `noise ${score(noise)}`);
  assert.ok(score(inverted) < 0.02, `inverted ${score(inverted)}`);
});

test('components are labelled 8-connected, each region once', () => {
  const rows = [
    '1100000',
    '0100011',
    '0010001',
    '0000000',
    '1000100',
  ];
  const data = Float32Array.from(rows.join(''), (c) => Number(c));
  const { labels, count } = labelComponents({ width: 7, height: 5, data });
  assert.equal(count, 4); // the diagonal chain is one region
  assert.equal(labels[0], labels[2 * 7 + 2]);
  assert.notEqual(labels[4 * 7], labels[4 * 7 + 4]);
});
