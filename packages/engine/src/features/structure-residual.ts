import type { FloatMap } from '../image/raster.ts';
import { fitPca } from '../kernels/pca.ts';
import type { Random } from '../kernels/random.ts';

/**
 * Filters learned from the good images themselves: the principal components of small mean-removed patches of their
 * lightness (the structures a product's good surface is made of: its streaks, grain, edges). A pixel's *structure
 * residual* is how much of its neighbourhood those components leave unexplained (root of the residual energy):
 * near zero on good texture at any contrast the components span, high on a crack, pit or fray that no good patch
 * looks like, even when its mean and contrast over a larger patch barely move.
 */
export interface StructureBasis {
  [key: string]: number | Float32Array;
  /** Side of the square neighbourhood (odd). */
  size: number;
  /** Components kept. */
  keep: number;
  /** keep × size² (rows of unit length, each orthogonal to the constant patch). */
  components: Float32Array;
}

/** Side of the learned filters' neighbourhood, and the share of the good patches' variance they keep. */
export const STRUCTURE_SIZE = 5;
export const STRUCTURE_VARIANCE_KEPT = 0.9;

/** Mean-removed `size`² neighbourhoods at `count` random interior pixels of the planes, for fitting. */
export function sampleNeighbourhoods(planes: FloatMap[], count: number, random: Random, size = STRUCTURE_SIZE): Float32Array {
  const dims = size * size, half = size >> 1;
  const usable = planes.filter((p) => p.width > size && p.height > size);
  const out = new Float32Array(usable.length ? count * dims : 0);
  if (!usable.length) return out;
  for (let n = 0; n < count; n++) {
    const plane = usable[random.int(usable.length)];
    const cx = half + random.int(plane.width - 2 * half), cy = half + random.int(plane.height - 2 * half);
    let mean = 0;
    for (let dy = -half, k = 0; dy <= half; dy++) for (let dx = -half; dx <= half; dx++, k++) mean += out[n * dims + k] = plane.data[(cy + dy) * plane.width + cx + dx];
    mean /= dims;
    for (let k = 0; k < dims; k++) out[n * dims + k] -= mean;
  }
  return out;
}

/** Components of mean-removed neighbourhoods, as many as explain `varianceKept` of their variance. */
export function fitStructureBasis(neighbourhoods: Float32Array, size = STRUCTURE_SIZE, varianceKept = STRUCTURE_VARIANCE_KEPT): StructureBasis {
  const dims = size * size;
  // Images too small for a neighbourhood: no components, so the residual is the neighbourhood's own energy.
  if (neighbourhoods.length < 2 * dims) return { size, keep: 0, components: new Float32Array(0) };
  const pca = fitPca(neighbourhoods, dims);
  const total = pca.variances.reduce((s, v) => s + Math.max(0, v), 0);
  let keep = 0;
  for (let explained = 0; keep < dims - 1 && explained < varianceKept * total; keep++) explained += Math.max(0, pca.variances[keep]);
  return { size, keep, components: pca.components.slice(0, keep * dims) };
}

/**
 * Structure residual of a plane's pixels (borders clamped), measured at every other pixel of every other row and
 * repeated over each 2×2 block: patches pool it over 8×8 pixels or more anyway, and it is the filter bank's dearest plane.
 * Four neighbourhoods of a row are measured together, so that each component value loaded serves four dot products
 * (each still summed in the same order, so the values are those of one neighbourhood at a time).
 */
export function structureResidual(plane: FloatMap, basis: StructureBasis): Float32Array {
  const { width, height, data } = plane;
  const { size, keep, components } = basis;
  const dims = size * size, half = size >> 1;
  // The plane with a replicated border of `half` pixels, so that the neighbourhood loops need no bounds checks.
  const pw = width + 2 * half;
  const padded = new Float32Array(pw * (height + 2 * half));
  for (let y = 0; y < height + 2 * half; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - half)) * width;
    for (let x = 0; x < pw; x++) padded[y * pw + x] = data[sy + Math.min(width - 1, Math.max(0, x - half))];
  }
  const offsets = new Int32Array(dims);
  for (let dy = 0, k = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++, k++) offsets[k] = dy * pw + dx;
  const out = new Float32Array(width * height);
  // Four neighbourhoods, one after the other, and each one's energy left after the mean (see below).
  const patches = new Float64Array(4 * dims);
  const energies = new Float64Array(4);
  const columns = (width + 1) >> 1;
  for (let y = 0; y < height; y += 2) {
    for (let column = 0; column < columns; column += 4) {
      const count = Math.min(4, columns - column);
      if (count === 4) {
        // The four neighbourhoods' sums side by side: eight independent chains of additions instead of two. (The
        // components are orthogonal to the constant patch, so projecting the raw patch equals projecting it mean-removed.)
        const origin = y * pw + 2 * column;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        for (let k = 0; k < dims; k++) {
          const at = origin + offsets[k];
          const v0 = padded[at], v1 = padded[at + 2], v2 = padded[at + 4], v3 = padded[at + 6];
          patches[k] = v0;
          patches[dims + k] = v1;
          patches[2 * dims + k] = v2;
          patches[3 * dims + k] = v3;
          s0 += v0; s1 += v1; s2 += v2; s3 += v3;
          q0 += v0 * v0; q1 += v1 * v1; q2 += v2 * v2; q3 += v3 * v3;
        }
        energies[0] = q0 - (s0 * s0) / dims;
        energies[1] = q1 - (s1 * s1) / dims;
        energies[2] = q2 - (s2 * s2) / dims;
        energies[3] = q3 - (s3 * s3) / dims;
      } else {
        for (let n = 0; n < count; n++) {
          const origin = y * pw + 2 * (column + n);
          let sum = 0, sumSq = 0;
          for (let k = 0, o = n * dims; k < dims; k++, o++) {
            const v = padded[origin + offsets[k]];
            patches[o] = v;
            sum += v;
            sumSq += v * v;
          }
          energies[n] = sumSq - (sum * sum) / dims;
        }
      }
      if (count === 4 && energies[0] > 0 && energies[1] > 0 && energies[2] > 0 && energies[3] > 0) {
        let e0 = energies[0], e1 = energies[1], e2 = energies[2], e3 = energies[3];
        let c = 0, o = 0;
        for (; c + 1 < keep; c += 2, o += 2 * dims) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          for (let k = 0; k < dims; k++) {
            const w = components[o + k], v = components[o + dims + k];
            const p0 = patches[k], p1 = patches[dims + k], p2 = patches[2 * dims + k], p3 = patches[3 * dims + k];
            a0 += w * p0; a1 += w * p1; a2 += w * p2; a3 += w * p3;
            b0 += v * p0; b1 += v * p1; b2 += v * p2; b3 += v * p3;
          }
          e0 -= a0 * a0; e1 -= a1 * a1; e2 -= a2 * a2; e3 -= a3 * a3;
          e0 -= b0 * b0; e1 -= b1 * b1; e2 -= b2 * b2; e3 -= b3 * b3;
        }
        for (; c < keep; c++, o += dims) {
          let dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
          for (let k = 0; k < dims; k++) {
            const w = components[o + k];
            dot0 += w * patches[k];
            dot1 += w * patches[dims + k];
            dot2 += w * patches[2 * dims + k];
            dot3 += w * patches[3 * dims + k];
          }
          e0 -= dot0 * dot0;
          e1 -= dot1 * dot1;
          e2 -= dot2 * dot2;
          e3 -= dot3 * dot3;
        }
        energies[0] = e0;
        energies[1] = e1;
        energies[2] = e2;
        energies[3] = e3;
      } else {
        for (let n = 0; n < count; n++) {
          let energy = energies[n];
          // Flat: subtracting squares cannot lift the energy above zero, so the residual is zero whatever they are.
          if (!(energy > 0)) continue;
          for (let c = 0, o = 0; c < keep; c++, o += dims) {
            let dot = 0;
            for (let k = 0; k < dims; k++) dot += components[o + k] * patches[n * dims + k];
            energy -= dot * dot;
          }
          energies[n] = energy;
        }
      }
      for (let n = 0; n < count; n++) {
        const x = 2 * (column + n);
        const value = Math.sqrt(Math.max(0, energies[n]));
        out[y * width + x] = value;
        if (x + 1 < width) out[y * width + x + 1] = value;
        if (y + 1 < height) {
          out[(y + 1) * width + x] = value;
          if (x + 1 < width) out[(y + 1) * width + x + 1] = value;
        }
      }
    }
  }
  return out;
}
