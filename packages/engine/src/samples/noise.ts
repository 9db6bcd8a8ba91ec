/**
 * Seeded noise for the procedural sample images: smooth value noise (wood grain warp, stains, lighting)
 * and directional streaks (the lines a brush or a saw leaves along one axis).
 */
import { Random } from '../kernels/random.ts';

/** A smooth random field: random values on a lattice, interpolated with a smoothstep. Values in about [-1, 1]. */
export class ValueNoise {
  private readonly columns: number;
  private readonly rows: number;
  private readonly lattice: Float32Array;

  /** `width`×`height` is the area it will be sampled over, `cell` the lattice spacing (the feature size). */
  constructor(random: Random, width: number, height: number, private readonly cell: number) {
    this.columns = Math.ceil(width / cell) + 3;
    this.rows = Math.ceil(height / cell) + 3;
    this.lattice = new Float32Array(this.columns * this.rows);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = random.next() * 2 - 1;
  }

  /** Sampled at any point; points outside the area are clamped to its border. */
  at(x: number, y: number): number {
    const fx = Math.min(Math.max(x / this.cell + 1, 0), this.columns - 1.001);
    const fy = Math.min(Math.max(y / this.cell + 1, 0), this.rows - 1.001);
    const x0 = Math.floor(fx), y0 = Math.floor(fy);
    const tx = smooth(fx - x0), ty = smooth(fy - y0);
    const row0 = y0 * this.columns, row1 = row0 + this.columns;
    const top = this.lattice[row0 + x0] * (1 - tx) + this.lattice[row0 + x0 + 1] * tx;
    const bottom = this.lattice[row1 + x0] * (1 - tx) + this.lattice[row1 + x0 + 1] * tx;
    return top * (1 - ty) + bottom * ty;
  }
}

const smooth = (t: number) => t * t * (3 - 2 * t);

/** Several octaves of value noise, each half the size and half the weight of the one before. */
export class FractalNoise {
  private readonly octaves: ValueNoise[];
  constructor(random: Random, width: number, height: number, cell: number, octaves: number) {
    this.octaves = Array.from({ length: octaves }, (_, k) => new ValueNoise(random, width, height, Math.max(1, cell / 2 ** k)));
  }
  at(x: number, y: number): number {
    let sum = 0, weight = 1, total = 0;
    for (const octave of this.octaves) {
      sum += octave.at(x, y) * weight;
      total += weight;
      weight /= 2;
    }
    return sum / total;
  }
}

/**
 * Streaks along x: white noise smeared along each row by a two-sided exponential filter of length `length`
 * and lightly across rows, then scaled to unit spread. Brushed metal and wood fibres are such streaks.
 */
export function streakTexture(random: Random, width: number, height: number, length: number): Float32Array {
  // Rows are padded on both sides so that the filter has warmed up before the kept part (else the ends streak more).
  const pad = Math.ceil(3 * Math.max(1, length));
  const padded = width + 2 * pad;
  const row = new Float32Array(padded);
  const data = new Float32Array(width * height);
  const keep = Math.exp(-1 / Math.max(1, length));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < padded; x++) row[x] = random.normal();
    for (let x = 1; x < padded; x++) row[x] += keep * (row[x - 1] - row[x]);
    for (let x = padded - 2; x >= 0; x--) row[x] += keep * (row[x + 1] - row[x]);
    data.set(row.subarray(pad, pad + width), y * width);
  }
  // A [1 2 1] blur across rows: real streaks are a pixel or two wide.
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    const up = Math.max(0, y - 1) * width, here = y * width, down = Math.min(height - 1, y + 1) * width;
    for (let x = 0; x < width; x++) out[here + x] = 0.25 * data[up + x] + 0.5 * data[here + x] + 0.25 * data[down + x];
  }
  let sumSq = 0;
  for (const v of out) sumSq += v * v;
  const scale = 1 / Math.sqrt(sumSq / out.length || 1);
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

/** Bilinear read of a width×height field at (x, y), clamped at the borders. */
export function sampleField(field: Float32Array, width: number, height: number, x: number, y: number): number {
  const fx = Math.min(Math.max(x, 0), width - 1.001);
  const fy = Math.min(Math.max(y, 0), height - 1.001);
  const x0 = Math.floor(fx), y0 = Math.floor(fy);
  const tx = fx - x0, ty = fy - y0;
  const i = y0 * width + x0;
  const top = field[i] * (1 - tx) + field[i + 1] * tx;
  const bottom = field[i + width] * (1 - tx) + field[i + width + 1] * tx;
  return top * (1 - ty) + bottom * ty;
}
