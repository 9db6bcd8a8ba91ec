import { ROW_PRODUCTS_WASM } from './row-products.wasm.ts';

/**
 * Two matrix products in a row, x → A·x → B·A·x, for many rows at once: the learned filters' whitening and matching.
 * The products run in WebAssembly SIMD (`row-products.wat`), each sum in the order a plain dot product takes, so the
 * results are bit for bit those of JavaScript loops (`test/row-products.test.ts`) at about a third of their time.
 *
 * The buffers live in the kernel's memory, one per thread and reused: a caller fills `rows` and `which`, calls `run`,
 * and reads `middle` and `outputs`. They stay valid until the next `chainedRowProducts` on the same thread.
 */
export interface ChainedRowProducts {
  /** maxRows × inner: the rows to multiply (only those listed in `which` are read). */
  rows: Float64Array;
  /** The indices of the rows to multiply (the first n). */
  which: Int32Array;
  /** maxRows × middleDims: A·x of each row multiplied. */
  middle: Float64Array;
  /** maxRows × outer: B·A·x of each row multiplied. */
  outputs: Float64Array;
  /** Multiplies the rows which[0 … n). */
  run(n: number): void;
}

interface Kernel {
  memory: WebAssembly.Memory;
  multiplyRows(rows: number, which: number, n: number, pairs: number, inner: number, outer: number, out: number): void;
}

let kernel: Kernel | null = null;

/** The kernel of this thread, compiled on first use (a 1 KB module: synchronous compilation is quick). */
function loadedKernel(): Kernel {
  if (!kernel) {
    const module = new WebAssembly.Module(Buffer.from(ROW_PRODUCTS_WASM, 'base64'));
    const exports = new WebAssembly.Instance(module).exports as unknown as Kernel;
    kernel = { memory: exports.memory, multiplyRows: exports.multiplyRows };
  }
  return kernel;
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

const align16 = (bytes: number) => (bytes + 15) & ~15;

/**
 * Scratch for x → first·x (first: middleDims × inner) → second·(first·x) (second: outer × middleDims) on up to
 * `maxRows` rows, with both matrices copied into the kernel's memory.
 */
export function chainedRowProducts(
  first: ArrayLike<number>, inner: number, middleDims: number, second: ArrayLike<number>, outer: number, maxRows: number,
): ChainedRowProducts {
  const { memory, multiplyRows } = loadedKernel();
  const firstPairs = 0;
  const secondPairs = firstPairs + pairBytes(middleDims, inner);
  const which = secondPairs + pairBytes(outer, middleDims);
  const rows = which + align16(4 * maxRows);
  const middle = rows + align16(8 * maxRows * inner);
  const outputs = middle + align16(8 * maxRows * middleDims);
  const end = outputs + 8 * maxRows * outer;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const words = new Float64Array(memory.buffer);
  writePairs(words, firstPairs / 8, first, middleDims, inner);
  writePairs(words, secondPairs / 8, second, outer, middleDims);
  return {
    rows: new Float64Array(memory.buffer, rows, maxRows * inner),
    which: new Int32Array(memory.buffer, which, maxRows),
    middle: new Float64Array(memory.buffer, middle, maxRows * middleDims),
    outputs: new Float64Array(memory.buffer, outputs, maxRows * outer),
    run(n: number) {
      if (n <= 0) return;
      if (n > maxRows) throw new RangeError(`${n} rows for a scratch of ${maxRows}`);
      multiplyRows(rows, which, n, firstPairs, inner, middleDims, middle);
      multiplyRows(middle, which, n, secondPairs, middleDims, outer, outputs);
    },
  };
}
