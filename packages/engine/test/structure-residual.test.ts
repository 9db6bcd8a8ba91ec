import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitStructureBasis, sampleNeighbourhoods, structureResidual } from '../src/features/structure-residual.ts';
import type { FloatMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { RowReservoir } from '../src/kernels/reservoir.ts';

/** Vertical streaks of random phase and contrast (brushed metal), optionally crossed by a dark horizontal crack at row 20. */
function streaks(random: Random, crack: boolean): FloatMap {
  const width = 48, height = 40, phase = random.next() * 6, contrast = 0.1 + 0.2 * random.next();
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    data[y * width + x] = crack && y === 20 ? 0.05 : 0.5 + contrast * Math.sin(x * 1.1 + phase);
  }
  return { width, height, data };
}

test('structure residual: learned filters explain the good texture at any contrast, not a crack across it', () => {
  const random = new Random(1);
  const basis = fitStructureBasis(sampleNeighbourhoods(Array.from({ length: 8 }, () => streaks(random, false)), 4000, random));
  assert.ok(basis.keep >= 1 && basis.keep < 25, `components kept: ${basis.keep}`);
  const good = structureResidual(streaks(random, false), basis);
  const cracked = structureResidual(streaks(random, true), basis);
  const goodMax = good.reduce((m, v) => Math.max(m, v), 0);
  const onCrack = cracked[20 * 48 + 24];
  assert.ok(onCrack > 5 * goodMax + 0.05, `on the crack ${onCrack.toFixed(3)}, good texture at most ${goodMax.toFixed(3)}`);
});

test('reservoir: every offered row is kept with the same probability, and the same seed keeps the same rows', () => {
  const keep = (seed: number) => {
    const reservoir = new RowReservoir(1000, 1, new Random(seed));
    const row = new Float32Array(1);
    for (let i = 0; i < 10000; i++) {
      const slot = reservoir.claim(i);
      if (slot >= 0) { row[0] = i; reservoir.rows.set(row, slot); }
    }
    return reservoir.kept();
  };
  const { rows, tags } = keep(3);
  assert.equal(tags.length, 1000);
  assert.deepEqual(Array.from(rows), Array.from(tags));
  const deciles = new Array(10).fill(0);
  for (const tag of tags) deciles[Math.floor(tag / 1000)]++;
  assert.ok(deciles.every((n) => n > 60 && n < 140), `kept per tenth of the stream: ${deciles.join(' ')}`);
  assert.deepEqual(Array.from(keep(3).tags), Array.from(tags));
});

test('structure residual: images smaller than a neighbourhood give no components and a finite plane', () => {
  const tiny = { width: 4, height: 3, data: Float32Array.from({ length: 12 }, (_, i) => i / 12) };
  const basis = fitStructureBasis(sampleNeighbourhoods([tiny], 100, new Random(2)));
  assert.equal(basis.keep, 0);
  assert.ok(structureResidual(tiny, basis).every(Number.isFinite));
});

/** The slow, obvious structure residual: every measured pixel's neighbourhood on its own, borders clamped. */
function slowResidual(plane: FloatMap, basis: { size: number; keep: number; components: Float32Array }): Float32Array {
  const { width, height, data } = plane;
  const { size, keep, components } = basis;
  const dims = size * size, half = size >> 1;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y += 2) for (let x = 0; x < width; x += 2) {
    const patch: number[] = [];
    for (let dy = -half; dy <= half; dy++) for (let dx = -half; dx <= half; dx++) {
      patch.push(data[Math.min(height - 1, Math.max(0, y + dy)) * width + Math.min(width - 1, Math.max(0, x + dx))]);
    }
    let sum = 0, sumSq = 0;
    for (const v of patch) { sum += v; sumSq += v * v; }
    let energy = sumSq - (sum * sum) / dims;
    for (let c = 0; c < keep; c++) {
      let dot = 0;
      for (let k = 0; k < dims; k++) dot += components[c * dims + k] * patch[k];
      energy -= dot * dot;
    }
    const value = Math.sqrt(Math.max(0, energy));
    for (const [u, v] of [[0, 0], [1, 0], [0, 1], [1, 1]]) if (x + u < width && y + v < height) out[(y + v) * width + x + u] = value;
  }
  return out;
}

test('structure residual equals the neighbourhood-by-neighbourhood computation exactly, flat areas included', () => {
  const random = new Random(3);
  for (let trial = 0; trial < 12; trial++) {
    const width = 1 + random.int(40), height = 1 + random.int(30);
    // Half the image flat (a board's bare copper), half noisy.
    const data = Float32Array.from({ length: width * height }, (_, i) => (i % width < width / 2 ? 0.25 : random.normal()));
    const keep = random.int(25);
    const components = Float32Array.from({ length: keep * 25 }, () => random.normal() * 0.2);
    const plane = { width, height, data };
    assert.deepEqual(structureResidual(plane, { size: 5, keep, components }), slowResidual(plane, { size: 5, keep, components }), `${width}×${height}, ${keep} components`);
  }
});
