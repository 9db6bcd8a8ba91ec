import { ROW_PRODUCTS_WASM } from './row-products.wasm.ts';

/**
 * Two matrix products in a row, x → A·x → B·A·x, for many rows at once: the learned filters' whitening and matching.
 * The products run in WebAssembly SIMD (`row-products.wat`) in float32, four lanes, each sum in the order a plain dot
 * product takes, so the results are bit for bit those of JavaScript loops that round each step (`test/row-products.test.ts`).
 * Float32 halves the time of float64's two lanes (10 000 rows of 49 → 36 → 32: 2.4 → 1.1 ms); the codebook residual,
 * a difference of squares, is then taken in float64.
 *
 * The buffers live in a kernel's memory, one per use and thread, reused: a caller fills `rows` and `which`, calls `run`,
 * and reads `middle` and `outputs`. They stay valid until the next scratch of the same use is laid out on the same thread:
 * the learned filters' (`chainedRowProducts`, `neighbourhoodProducts`) and `rowProducts`' (PS's projection) never
 * overwrite each other.
 */
export interface ChainedRowProducts {
  /** maxRows × inner: the rows to multiply (only those listed in `which` are read). */
  rows: Float32Array;
  /** The indices of the rows to multiply (the first n). */
  which: Int32Array;
  /** maxRows rows of `middleStride` values, the first middleDims of each A·x of that row (the rest 0). */
  middle: Float32Array;
  middleStride: number;
  /** maxRows rows of `outputStride` values, the first outer of each B·A·x of that row. */
  outputs: Float32Array;
  outputStride: number;
  /** Per row: its energy before whitening (|x|²), written by the caller (or by `gather`), read by `codebookResiduals`. */
  energies: Float64Array;
  /** Per row: its codebook residual, after `codebookResiduals`. */
  residuals: Float64Array;
  /** Multiplies the rows which[0 … n). */
  run(n: number): void;
  /**
   * The codebook residual of the rows which[0 … n) after `run` (A whitens, B holds the centroids): |A·x|² plus `restGain`
   * times the energy outside the kept directions (|x|² less each (A·x)ᵢ² · keptScalesᵢ², floored at 0), less the square
   * of the largest |B·A·x|, floored at 0; its square root.
   */
  codebookResiduals(n: number): void;
}

/** The learned filters' codebook, for `codebookResiduals`. */
export interface Codebook { keptScales: ArrayLike<number>; restGain: number }

interface Kernel {
  memory: WebAssembly.Memory;
  multiplyRows(rows: number, which: number, n: number, pairs: number, inner: number, outer: number, out: number): void;
  multiplyRowsFloat32(rows: number, which: number, n: number, quads: number, inner: number, outer: number, out: number): void;
  codebookResiduals(
    which: number, n: number, projected: number, middleDims: number, middleStride: number, responses: number, outer: number, outerStride: number,
    energies: number, keptScales: number, restGain: number, out: number,
  ): void;
  gatherNeighbourhoods(
    padded: number, paddedWidth: number, corner: number, width: number, size: number, floor: number, mean: number, needed: number,
    rows: number, energies: number, varying: number, flat: number, flatCount: number,
  ): number;
}

let compiled: WebAssembly.Module | null = null;
/** This thread's kernel instances, one per use, each with its own memory. */
const kernels = new Map<'learned filters' | 'single products', Kernel>();

/** The kernel of this thread for one use, compiled on first use (a 1 KB module: synchronous compilation is quick). */
function loadedKernel(use: 'learned filters' | 'single products'): Kernel {
  let kernel = kernels.get(use);
  if (!kernel) {
    compiled ??= new WebAssembly.Module(Buffer.from(ROW_PRODUCTS_WASM, 'base64'));
    const { memory, multiplyRows, multiplyRowsFloat32, codebookResiduals, gatherNeighbourhoods } = new WebAssembly.Instance(compiled).exports as unknown as Kernel;
    kernel = { memory, multiplyRows, multiplyRowsFloat32, codebookResiduals, gatherNeighbourhoods };
    kernels.set(use, kernel);
  }
  return kernel;
}

/** Refuses a run of more rows than a scratch holds. */
function checkRows(n: number, maxRows: number): void {
  if (n > maxRows) throw new RangeError(`${n} rows for a scratch of ${maxRows}`);
}

/** Bytes of a matrix laid out by pairs of rows (`row-products.wat`): an odd row count gets a row of zeros. */
function pairBytes(rows: number, columns: number): number {
  return ((rows + 1) >> 1) * columns * 16;
}

/** Writes `matrix` (rows × columns) by pairs of rows, interleaved, from `at` of `view` (float64 index). */
function writePairs(view: Float64Array, at: number, matrix: ArrayLike<number>, rows: number, columns: number): void {
  for (let p = 0; p < (rows + 1) >> 1; p++) {
    for (let k = 0; k < columns; k++) {
      const to = at + 2 * (p * columns + k);
      view[to] = matrix[2 * p * columns + k];
      view[to + 1] = 2 * p + 1 < rows ? matrix[(2 * p + 1) * columns + k] : 0;
    }
  }
}

/** Rows of a float32 result padded to whole lanes of four. */
const quadStride = (columns: number) => (columns + 3) & ~3;

/** Bytes of a matrix laid out by quads of rows (`multiplyRowsFloat32`), `inner` values each. */
function quadBytes(rows: number, inner: number): number {
  return quadStride(rows) * inner * 4;
}

/**
 * Writes `matrix` (rows × columns) by quads of rows, interleaved, from `at` of `view` (float32 index), `inner` ≥ columns
 * values per row: missing rows and columns are zeros.
 */
function writeQuads(view: Float32Array, at: number, matrix: ArrayLike<number>, rows: number, columns: number, inner: number): void {
  for (let q = 0; q < quadStride(rows) >> 2; q++) {
    for (let k = 0; k < inner; k++) {
      for (let lane = 0; lane < 4; lane++) {
        const row = 4 * q + lane;
        view[at + 4 * (q * inner + k) + lane] = row < rows && k < columns ? matrix[row * columns + k] : 0;
      }
    }
  }
}

const align16 = (bytes: number) => (bytes + 15) & ~15;

/** Lays buffers of the given byte sizes out one after the other (16-byte aligned), growing the memory to hold them; their addresses. */
function layOut(memory: WebAssembly.Memory, sizes: number[]): number[] {
  const at: number[] = [];
  let end = 0;
  for (const size of sizes) {
    at.push(end);
    end += align16(size);
  }
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  return at;
}

/** Byte sizes of the buffers of chained products (see `productsAt`), in its order. */
function productsBytes(inner: number, middleDims: number, outer: number, maxRows: number): number[] {
  const middleStride = quadStride(middleDims), outerStride = quadStride(outer);
  return [
    quadBytes(middleDims, inner), quadBytes(outer, middleStride), 4 * maxRows, 4 * maxRows * inner, 4 * maxRows * middleStride,
    4 * maxRows * outerStride, 8 * maxRows, 8 * maxRows, 8 * middleDims,
  ];
}

/**
 * Scratch for x → first·x (first: middleDims × inner) → second·(first·x) (second: outer × middleDims) on up to
 * `maxRows` rows, with both matrices (and the codebook's kept scales) copied into the kernel's memory.
 */
export function chainedRowProducts(
  first: ArrayLike<number>, inner: number, middleDims: number, second: ArrayLike<number>, outer: number, maxRows: number, codebook: Codebook,
): ChainedRowProducts {
  const kernel = loadedKernel('learned filters');
  const at = layOut(kernel.memory, productsBytes(inner, middleDims, outer, maxRows));
  return productsAt(kernel, first, inner, middleDims, second, outer, maxRows, codebook, at);
}

/**
 * The views and functions of chained products whose buffers start at the given addresses (`productsBytes`'s order),
 * the matrices and kept scales written there.
 */
function productsAt(
  { memory, multiplyRowsFloat32, codebookResiduals }: Kernel, first: ArrayLike<number>, inner: number, middleDims: number,
  second: ArrayLike<number>, outer: number, maxRows: number, { keptScales, restGain }: Codebook,
  [firstQuads, secondQuads, which, rows, middle, outputs, energies, residuals, scales]: number[],
): ChainedRowProducts {
  const middleStride = quadStride(middleDims), outputStride = quadStride(outer);
  const floats = new Float32Array(memory.buffer);
  writeQuads(floats, firstQuads / 4, first, middleDims, inner, inner);
  // The second product reads the middle rows whole, their padding included (zeros, times zero weights).
  writeQuads(floats, secondQuads / 4, second, outer, middleDims, middleStride);
  new Float64Array(memory.buffer).set(Float64Array.from(keptScales), scales / 8);
  return {
    rows: new Float32Array(memory.buffer, rows, maxRows * inner),
    which: new Int32Array(memory.buffer, which, maxRows),
    middle: new Float32Array(memory.buffer, middle, maxRows * middleStride),
    middleStride,
    outputs: new Float32Array(memory.buffer, outputs, maxRows * outputStride),
    outputStride,
    energies: new Float64Array(memory.buffer, energies, maxRows),
    residuals: new Float64Array(memory.buffer, residuals, maxRows),
    run(n: number) {
      checkRows(n, maxRows);
      if (n <= 0) return;
      multiplyRowsFloat32(rows, which, n, firstQuads, inner, middleStride, middle);
      multiplyRowsFloat32(middle, which, n, secondQuads, middleStride, outputStride, outputs);
    },
    codebookResiduals(n: number) {
      checkRows(n, maxRows);
      if (n <= 0) return;
      codebookResiduals(which, n, middle, middleDims, middleStride, outputs, outer, outputStride, energies, scales, restGain, residuals);
    },
  };
}

/** One matrix product x → M·x for many rows at once, in float64 (two lanes). */
export interface RowProducts {
  /** maxRows × inner: the rows to multiply (only those listed in `which` are read). */
  rows: Float64Array;
  /** The indices of the rows to multiply (the first n). */
  which: Int32Array;
  /** maxRows × outer: M·x of each row multiplied. */
  outputs: Float64Array;
  /** Multiplies the rows which[0 … n). */
  run(n: number): void;
}

/** Scratch for x → matrix·x (matrix: outer × inner) on up to `maxRows` rows, the matrix copied into the kernel's memory. */
export function rowProducts(matrix: ArrayLike<number>, inner: number, outer: number, maxRows: number): RowProducts {
  const { memory, multiplyRows } = loadedKernel('single products');
  const [pairs, which, rows, outputs] = layOut(memory, [pairBytes(outer, inner), 4 * maxRows, 8 * maxRows * inner, 8 * maxRows * outer]);
  writePairs(new Float64Array(memory.buffer), pairs / 8, matrix, outer, inner);
  return {
    rows: new Float64Array(memory.buffer, rows, maxRows * inner),
    which: new Int32Array(memory.buffer, which, maxRows),
    outputs: new Float64Array(memory.buffer, outputs, maxRows * outer),
    run(n: number) {
      checkRows(n, maxRows);
      if (n <= 0) return;
      multiplyRows(rows, which, n, pairs, inner, outer, outputs);
    },
  };
}

/**
 * The learned filters' first layer on one plane, a grid row at a time: `padded` (the plane with `size` >> 1 clamped pixels
 * on every side, `paddedWidth` wide) is written by the caller; `gather` takes the row's `size` × `size` neighbourhoods at
 * every other pixel into `rows` (normalised, with their energies, the varying ones listed in `which`, the flat ones in
 * `flat`), then `run` whitens and matches them (`ChainedRowProducts`).
 */
export interface NeighbourhoodProducts extends ChainedRowProducts {
  padded: Float32Array;
  flat: Int32Array;
  /** Gathers grid row `gy` (only the grid pixels `needed` marks, when given: one byte per grid pixel of the row). */
  gather(gy: number, needed: Uint8Array | null): { varying: number; flats: number };
}

export function neighbourhoodProducts(
  whitening: ArrayLike<number>, size: number, whitenedDims: number, centroids: ArrayLike<number>, count: number, codebook: Codebook,
  { width, paddedWidth, paddedHeight, mean, contrastFloor }: { width: number; paddedWidth: number; paddedHeight: number; mean: ArrayLike<number>; contrastFloor: number },
): NeighbourhoodProducts {
  const kernel = loadedKernel('learned filters');
  const { memory, gatherNeighbourhoods } = kernel;
  const dims = size * size;
  const products = productsBytes(dims, whitenedDims, count, width);
  const at = layOut(memory, [...products, 4 * paddedWidth * paddedHeight, 8 * dims, 4 * width, width, 4]);
  const [padded, meanAt, flat, needed, flatCount] = at.slice(products.length);
  const [, , which, rows, , , energies] = at;
  const chained = productsAt(kernel, whitening, dims, whitenedDims, centroids, count, width, codebook, at);
  new Float64Array(memory.buffer, meanAt, dims).set(mean);
  const neededRow = new Uint8Array(memory.buffer, needed, width);
  const flatCounted = new Int32Array(memory.buffer, flatCount, 1);
  return {
    ...chained,
    padded: new Float32Array(memory.buffer, padded, paddedWidth * paddedHeight),
    flat: new Int32Array(memory.buffer, flat, width),
    gather(gy: number, neededMask: Uint8Array | null) {
      if (neededMask) neededRow.set(neededMask.subarray(gy * width, (gy + 1) * width));
      const varying = gatherNeighbourhoods(
        padded, paddedWidth, 2 * gy * paddedWidth, width, size, contrastFloor, meanAt, neededMask ? needed : -1, rows, energies, which, flat, flatCount,
      );
      return { varying, flats: flatCounted[0] };
    },
  };
}
