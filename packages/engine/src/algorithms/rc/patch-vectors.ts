import { toGray, type Raster } from '../../image/raster.ts';
import { extractPatches, type PatchGrid } from '../../features/patches.ts';

/**
 * How patches become vectors for reconstruction models (RC and AE share this):
 * - `raw`: the patch's pixel values as they are (colour kept);
 * - `centred`: each channel of the image is first normalised by its own median and MAD (exposure varies
 *   between shots), then each patch loses its own mean per channel, so that only local structure
 *   (edges, cracks, texture) remains to be reconstructed.
 * `splitSigns` turns a signed vector v into [max(v, 0), max(−v, 0)]: non-negative, as NMF needs, and
 * v is recovered exactly as the difference of the halves.
 */
export interface PatchVectorOptions {
  normalisation: 'raw' | 'centred' | 'standardised';
  splitSigns: boolean;
  /** Luminance only (fewer values per patch: cheaper models, colour ignored). */
  grey?: boolean;
}

const HISTOGRAM_BINS = 1024;

/** Median and MAD of each channel, from a histogram (values are in [0, 1]). */
export function channelMedianMad(raster: Raster): { median: Float32Array; mad: Float32Array } {
  const { channels, data } = raster;
  const median = new Float32Array(channels);
  const mad = new Float32Array(channels);
  const count = data.length / channels;
  const quantileOfHistogram = (histogram: Uint32Array, scale: number) => {
    let seen = 0;
    for (let b = 0; b < histogram.length; b++) {
      seen += histogram[b];
      if (seen * 2 >= count) return (b + 0.5) / scale;
    }
    return 1;
  };
  for (let c = 0; c < channels; c++) {
    const histogram = new Uint32Array(HISTOGRAM_BINS);
    for (let i = c; i < data.length; i += channels) histogram[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(data[i] * HISTOGRAM_BINS)))]++;
    median[c] = quantileOfHistogram(histogram, HISTOGRAM_BINS);
    histogram.fill(0);
    for (let i = c; i < data.length; i += channels) {
      histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(data[i] - median[c]) * HISTOGRAM_BINS))]++;
    }
    // A flat channel would divide by zero; a floor of a few grey levels keeps noise from being amplified.
    mad[c] = Math.max(quantileOfHistogram(histogram, HISTOGRAM_BINS), 4 / 255);
  }
  return { median, mad };
}

export function patchVectorDims(grid: PatchGrid, channels: number, options: PatchVectorOptions): number {
  return grid.patchWidth * grid.patchHeight * (options.grey ? 1 : channels) * (options.splitSigns ? 2 : 1);
}

/** Every patch of the grid as a vector: `data[(gy·columns + gx)·dims + …]`. */
export function patchVectors(source: Raster, grid: PatchGrid, options: PatchVectorOptions): { dims: number; count: number; data: Float32Array } {
  const raster = options.grey && source.channels > 1 ? { ...toGray(source), channels: 1 } : source;
  const patches = extractPatches(raster, grid);
  const count = grid.columns * grid.rows;
  const base = patches.dims;
  const channels = raster.channels;
  const pixels = base / channels;
  if (options.normalisation === 'centred') {
    // The median cancels in the patch-mean subtraction; only the spread is needed.
    const { mad } = channelMedianMad(raster);
    const scale = Array.from(mad, (m) => 1 / (1.4826 * m));
    const data = patches.data;
    const mean = new Float64Array(channels);
    for (let p = 0; p < count; p++) {
      const o = p * base;
      mean.fill(0);
      for (let i = 0; i < base; i++) mean[i % channels] += data[o + i];
      for (let c = 0; c < channels; c++) mean[c] /= pixels;
      for (let i = 0; i < base; i++) {
        const c = i % channels;
        data[o + i] = (data[o + i] - mean[c]) * scale[c];
      }
    }
  }
  if (options.normalisation === 'standardised') {
    const { median, mad } = channelMedianMad(raster);
    const data = patches.data;
    for (let i = 0; i < data.length; i++) {
      const c = i % channels;
      data[i] = (data[i] - median[c]) / (1.4826 * mad[c]);
    }
  }
  if (!options.splitSigns) return { dims: base, count, data: patches.data };
  const dims = base * 2;
  const out = new Float32Array(count * dims);
  for (let p = 0; p < count; p++) {
    const src = p * base, dst = p * dims;
    for (let i = 0; i < base; i++) {
      const v = patches.data[src + i];
      if (v > 0) out[dst + i] = v;
      else out[dst + base + i] = -v;
    }
  }
  return { dims, count, data: out };
}
