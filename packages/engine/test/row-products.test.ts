import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { chainedRowProducts, neighbourhoodProducts, rowProducts } from '../src/kernels/row-products.ts';
import { Random } from '../src/kernels/random.ts';
import { WASM_KERNELS, renderWasmModule } from '../../../scripts/build-wasm.ts';

/** matrix (outer × inner) times each row, summed over the inner index in ascending order: the results the kernel must give. */
function plainProducts(rows: Float64Array, inner: number, matrix: Float64Array, outer: number, which: number[]): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  for (const r of which) {
    const values = new Float64Array(outer);
    for (let j = 0; j < outer; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += matrix[j * inner + k] * rows[r * inner + k];
      values[j] = sum;
    }
    out.set(r, values);
  }
  return out;
}

/**
 * The same in float32: the matrix and the rows rounded to float32, then each product and each sum rounded (a float64
 * product of two float32 values is exact and a float64 sum of two rounds to the float32 sum, so Math.fround gives what
 * float32 arithmetic gives).
 */
function plainFloat32Products(rows: Float32Array, inner: number, stride: number, matrix: ArrayLike<number>, outer: number, which: number[]): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  for (const r of which) {
    const values = new Float32Array(outer);
    for (let j = 0; j < outer; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum = Math.fround(sum + Math.fround(Math.fround(matrix[j * inner + k]) * rows[r * stride + k]));
      values[j] = sum;
    }
    out.set(r, values);
  }
  return out;
}

function randomMatrix(random: Random, length: number): Float64Array {
  return Float64Array.from({ length }, () => random.normal() * 10 ** (random.int(7) - 3));
}

test('the committed WebAssembly kernels are what their text sources assemble to', async () => {
  for (const kernel of WASM_KERNELS) {
    assert.equal(await readFile(kernel.module, 'utf8'), await renderWasmModule(kernel),
      `${kernel.module} is stale: run \`node --import tsx scripts/build-wasm.ts\``);
  }
});

/** Chained products of the rows listed, in plain float32 JavaScript: each row's middle values, then its outputs. */
function plainChained(
  rows: Float32Array, inner: number, first: Float64Array, middle: number, second: Float64Array, outer: number, which: number[],
): { middles: Map<number, Float32Array>; outputs: Map<number, Float32Array> } {
  const middles = plainFloat32Products(rows, inner, inner, first, middle, which);
  const middleRows = new Float32Array(Math.max(...which, 0) * middle + middle);
  for (const [r, values] of middles) middleRows.set(values, r * middle);
  return { middles, outputs: plainFloat32Products(middleRows, middle, middle, second, outer, which) };
}

test('chained row products equal plain float32 dot products bit for bit, for sizes off the lanes and any rows listed', () => {
  const random = new Random(7);
  // (inner, middle, outer, maxRows): whole blocks of sixteen outputs, remainders of every size, one output, one row.
  const shapes = [[49, 45, 32, 37], [49, 33, 32, 20], [32, 19, 31, 5], [9, 1, 3, 1], [25, 8, 16, 64], [3, 7, 9, 2], [49, 36, 34, 3]];
  for (const [inner, middle, outer, maxRows] of shapes) {
    const first = randomMatrix(random, middle * inner), second = randomMatrix(random, outer * middle);
    const product = chainedRowProducts(first, inner, middle, second, outer, maxRows, { keptScales: new Float64Array(middle).fill(1), restGain: 0 });
    product.rows.set(randomMatrix(random, maxRows * inner));
    // Every other row, backwards, then all of them: the kernel reads only the rows listed, wherever they are.
    for (const which of [Array.from({ length: maxRows }, (_, i) => maxRows - 1 - i).filter((r) => r % 2 === 0), Array.from({ length: maxRows }, (_, i) => i)]) {
      product.which.set(which);
      product.middle.fill(Number.NaN);
      product.run(which.length);
      const { middles, outputs } = plainChained(Float32Array.from(product.rows), inner, first, middle, second, outer, which);
      const { middleStride, outputStride } = product;
      for (const r of which) {
        assert.deepEqual(product.middle.subarray(r * middleStride, r * middleStride + middle), middles.get(r), `middle of row ${r} (${inner}→${middle}→${outer})`);
        assert.deepEqual(product.outputs.subarray(r * outputStride, r * outputStride + outer), outputs.get(r), `outputs of row ${r} (${inner}→${middle}→${outer})`);
      }
      // Rows not listed are left alone.
      for (let r = 0; r < maxRows; r++) if (!which.includes(r)) assert.ok(Number.isNaN(product.middle[r * middleStride]), `row ${r} untouched`);
    }
  }
});

test('a larger scratch grows the kernel memory and a run beyond its rows is refused', () => {
  const random = new Random(3);
  const inner = 49, middle = 40, outer = 32, maxRows = 3000;
  const first = randomMatrix(random, middle * inner), second = randomMatrix(random, outer * middle);
  const product = chainedRowProducts(first, inner, middle, second, outer, maxRows, { keptScales: new Float64Array(middle).fill(1), restGain: 0 });
  product.rows.set(randomMatrix(random, maxRows * inner));
  product.which.set([maxRows - 1]);
  product.run(1);
  const expected = plainFloat32Products(product.rows, inner, inner, first, middle, [maxRows - 1]).get(maxRows - 1)!;
  const at = (maxRows - 1) * product.middleStride;
  assert.deepEqual(product.middle.subarray(at, at + middle), expected);
  assert.throws(() => product.run(maxRows + 1), RangeError);
});

test('gathered neighbourhoods equal a plain JavaScript gathering bit for bit: flat ones listed, only the needed ones taken', () => {
  // Sides under four (copied value by value), with a partial last chunk (5, 7: the learned filters'), and whole chunks (8).
  for (const size of [3, 5, 7, 8]) checkGathering(size);
});

function checkGathering(size: number): void {
  const random = new Random(5 + size);
  const dims = size * size, width = 9, height = 4, paddedWidth = 2 * width + size - 1, paddedHeight = 2 * height + size - 1;
  const mean = Array.from({ length: dims }, () => random.normal() * 0.1);
  const contrastFloor = 0.03;
  const codebook = { keptScales: new Float64Array(6).fill(1), restGain: 0 };
  const product = neighbourhoodProducts(randomMatrix(random, 6 * dims), size, 6, randomMatrix(random, 4 * 6), 4, codebook, { width, paddedWidth, paddedHeight, mean, contrastFloor });
  // A noisy plane with a flat band (its first `size` rows constant: the first grid row's neighbourhoods are all flat).
  for (let i = 0; i < product.padded.length; i++) product.padded[i] = i < size * paddedWidth ? 0.25 : random.normal() * 10 ** (random.int(3) - 1);
  const needed = Uint8Array.from({ length: width * height }, (_, i) => (i % 4 === 3 ? 0 : 1));
  for (let gy = 0; gy < height; gy++) {
    for (const mask of [null, needed]) {
      const { varying, flats } = product.gather(gy, mask);
      const expectedVarying: number[] = [], expectedFlat: number[] = [];
      for (let gx = 0; gx < width; gx++) {
        if (mask && !mask[gy * width + gx]) continue;
        const values: number[] = [];
        for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) values.push(product.padded[(2 * gy + dy) * paddedWidth + 2 * gx + dx]);
        if (values.every((v) => v === values[0])) { expectedFlat.push(gx); continue; }
        // The kernel's order: four chains (k mod 4) over whole chunks of four, added (0 + 1) + (2 + 3), then the rest in order.
        const sums = [0, 0, 0, 0], squares = [0, 0, 0, 0], quads = dims - (dims % 4);
        for (let k = 0; k < quads; k++) { sums[k % 4] += values[k]; squares[k % 4] += values[k] * values[k]; }
        let sum = (sums[0] + sums[1]) + (sums[2] + sums[3]), sumSq = (squares[0] + squares[1]) + (squares[2] + squares[3]);
        for (let k = quads; k < dims; k++) { sum += values[k]; sumSq += values[k] * values[k]; }
        const m = sum / dims, scale = 1 / Math.sqrt(Math.max(0, sumSq / dims - m * m) + contrastFloor);
        const row = values.map((v, k) => Math.fround((v - m) * scale - mean[k]));
        // Energies in two chains (k even, odd) over whole pairs, added, then a last odd value.
        const energies = [0, 0], pairs = dims - (dims % 2);
        for (let k = 0; k < pairs; k++) energies[k % 2] += row[k] * row[k];
        let energy = energies[0] + energies[1];
        if (pairs < dims) energy += row[dims - 1] * row[dims - 1];
        assert.deepEqual(Array.from(product.rows.subarray(gx * dims, (gx + 1) * dims)), row, `row ${gy}, pixel ${gx}`);
        assert.equal(product.energies[gx], energy, `energy of row ${gy}, pixel ${gx}`);
        expectedVarying.push(gx);
      }
      assert.deepEqual(Array.from(product.which.subarray(0, varying)), expectedVarying);
      assert.deepEqual(Array.from(product.flat.subarray(0, flats)), expectedFlat);
      if (gy === 0) assert.equal(varying, 0, 'the flat band');
    }
  }
}

/**
 * The codebook residual as the learned filters define it, in plain JavaScript: |y|² plus restGain times the energy
 * outside the kept directions, less the best match's square, floored at 0.
 */
function plainResidual(y: Float32Array, responses: Float32Array, energy: number, keptScales: Float32Array, restGain: number): number {
  let norm = 0;
  for (let c = 0; c < y.length; c++) {
    norm += y[c] * y[c];
    energy -= (y[c] * keptScales[c]) ** 2;
  }
  norm += restGain * Math.max(0, energy);
  let best = 0;
  for (const response of responses) if (Math.abs(response) > best) best = Math.abs(response);
  return Math.sqrt(Math.max(0, norm - best * best));
}

test('codebook residuals equal the plain formula bit for bit, for the rows listed only', () => {
  const random = new Random(9);
  const inner = 49, middle = 45, outer = 32, maxRows = 24;
  const keptScales = Float32Array.from({ length: middle }, () => random.next());
  const product = chainedRowProducts(randomMatrix(random, middle * inner), inner, middle, randomMatrix(random, outer * middle), outer, maxRows, { keptScales, restGain: 6.5 });
  product.rows.set(randomMatrix(random, maxRows * inner));
  const which = Array.from({ length: maxRows }, (_, i) => i).filter((r) => r % 3 !== 1);
  for (let r = 0; r < maxRows; r++) {
    let energy = 0;
    for (let k = 0; k < inner; k++) energy += product.rows[r * inner + k] ** 2;
    // Some energies below what the kept directions take (the floor at 0), one far above.
    product.energies[r] = r % 5 === 0 ? 0 : r === 7 ? energy * 1e6 : energy;
  }
  product.which.set(which);
  product.residuals.fill(Number.NaN);
  product.run(which.length);
  product.codebookResiduals(which.length);
  for (let r = 0; r < maxRows; r++) {
    if (!which.includes(r)) {
      assert.ok(Number.isNaN(product.residuals[r]), `row ${r} untouched`);
      continue;
    }
    const y = product.middle.slice(r * product.middleStride, r * product.middleStride + middle);
    const responses = product.outputs.slice(r * product.outputStride, r * product.outputStride + outer);
    assert.equal(product.residuals[r], plainResidual(y, responses, product.energies[r], keptScales, 6.5), `row ${r}`);
  }
  assert.throws(() => product.codebookResiduals(maxRows + 1), RangeError);
});

test('single row products (the projection of PS) are plain float64 dot products and leave a learned-filter scratch in use intact', () => {
  const random = new Random(11);
  const inner = 49, middle = 30, outer = 32, maxRows = 16;
  const first = randomMatrix(random, middle * inner), second = randomMatrix(random, outer * middle);
  const product = chainedRowProducts(first, inner, middle, second, outer, maxRows, { keptScales: new Float64Array(middle).fill(1), restGain: 0 });
  const rows = Float32Array.from(randomMatrix(random, maxRows * inner));
  product.rows.set(rows);
  product.which.set(Array.from({ length: maxRows }, (_, i) => i));
  // A projection laid out meanwhile, large enough to reach over every buffer of the scratch above were they shared.
  const matrix = randomMatrix(random, 31 * 40);
  const projection = rowProducts(matrix, 40, 31, 4000);
  projection.rows.set(randomMatrix(random, 4000 * 40));
  projection.which.set(Array.from({ length: 4000 }, (_, i) => 3999 - i));
  projection.run(4000);
  // In float64, bit for bit a plain dot product.
  const projected = plainProducts(Float64Array.from(projection.rows), 40, matrix, 31, [0, 1, 2000, 3999]);
  for (const [r, values] of projected) assert.deepEqual(projection.outputs.subarray(r * 31, (r + 1) * 31), values, `projected row ${r}`);
  product.run(maxRows);
  assert.deepEqual(Float32Array.from(product.rows), rows);
  const middles = plainFloat32Products(rows, inner, inner, first, middle, [3]).get(3)!;
  assert.deepEqual(product.middle.subarray(3 * product.middleStride, 3 * product.middleStride + middle), middles);
});
