import { KNN_SCAN_WASM } from './knn-scan.wasm.ts';

/**
 * The k-d tree's leaf scan for one index's points, in WebAssembly (`knn-scan.wat`): a float32 SIMD check of four
 * points at a time on their leading coordinates rejects most of them, and the rest are measured exactly as
 * `KnnSearcher`'s JavaScript scan measures them, so searches find the same points at the same distances, bit for bit
 * (`test/knn.test.ts`).
 *
 * Each index gets its own memory, holding its points twice (by blocks of four for the first check, and as rows) and
 * the query: a searcher writes the query into `query` and calls `scan`.
 */
export interface LeafScanner {
  /** The query, `dims` values; it must hold float32 values (the first check reads it as float32). */
  query: Float64Array;
  /** The first row of [from, end) whose squared distance to the query is below `limit` (then in `distance[0]`), or −1. */
  scan(from: number, end: number, limit: number): number;
  distance: Float64Array;
}

/** The first check's threshold over the limit: far beyond its float32 rounding (under 4·10⁻⁷ of the sum). */
const MARGIN = 1 + 2e-6;

let compiled: WebAssembly.Module | null = null;

const align16 = (bytes: number) => (bytes + 15) & ~15;

/** A scanner of `points` (rows of `dims` ≥ 4 float32 values). */
export function leafScanner(points: Float32Array, dims: number): LeafScanner {
  if (dims < 4) throw new RangeError('the leaf scan needs at least four coordinates');
  const size = points.length / dims;
  compiled ??= new WebAssembly.Module(Buffer.from(KNN_SCAN_WASM, 'base64'));
  const leads = 0;
  const rows = align16(Math.ceil(size / 4) * 64);
  const query = rows + align16(points.byteLength);
  const out = query + align16(8 * dims);
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((out + 8) / 65536)) });
  const { scan } = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as {
    scan(leads: number, points: number, query: number, dims: number, from: number, end: number, limit: number, threshold: number, out: number): number;
  };
  const blocks = new Float32Array(memory.buffer, leads, Math.ceil(size / 4) * 16);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < 4; c++) blocks[(r >> 2) * 16 + c * 4 + (r & 3)] = points[r * dims + c];
  }
  new Float32Array(memory.buffer, rows, points.length).set(points);
  return {
    query: new Float64Array(memory.buffer, query, dims),
    distance: new Float64Array(memory.buffer, out, 1),
    scan: (from, end, limit) => scan(leads, rows, query, dims, from, end, limit, Math.fround(limit * MARGIN), out),
  };
}
