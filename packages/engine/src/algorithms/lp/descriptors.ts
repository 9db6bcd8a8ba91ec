import { toGray, type Raster } from '../../image/raster.ts';

/**
 * LP's view of an image: feature planes (colour and gradient magnitude), each box-averaged over
 * `pool`×`pool` pixels, so that a 32×32 inspection window becomes a short descriptor (8×8 points × planes)
 * read at any pixel offset without re-pooling.
 */
export interface PooledPlanes {
  width: number;
  height: number;
  planes: number;
  pool: number;
  /** Plane-major: `data[(plane * height + y) * width + x]` is the pool-mean centred on (x, y). */
  data: Float32Array;
}

export const PLANES = 4;

/** Sobel gradient magnitude of the grey image: cracks and edges that colour alone hardly shows. */
function gradientMagnitude(gray: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const at = (x: number, y: number) => gray[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      out[y * width + x] = Math.hypot(gx, gy) / 4;
    }
  }
  return out;
}

/** Mean over a size×size box centred on each pixel (border-clamped), by a summed-area table. */
export function boxMean(plane: Float32Array, width: number, height: number, size: number): Float32Array {
  if (size <= 1) return plane;
  const sat = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += plane[y * width + x];
      sat[(y + 1) * (width + 1) + x + 1] = sat[y * (width + 1) + x + 1] + row;
    }
  }
  const out = new Float32Array(width * height);
  const before = Math.floor((size - 1) / 2), after = size - 1 - before;
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - before), y1 = Math.min(height, y + after + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - before), x1 = Math.min(width, x + after + 1);
      const sum = sat[y1 * (width + 1) + x1] - sat[y0 * (width + 1) + x1] - sat[y1 * (width + 1) + x0] + sat[y0 * (width + 1) + x0];
      out[y * width + x] = sum / ((x1 - x0) * (y1 - y0));
    }
  }
  return out;
}

export function pooledPlanes(raster: Raster, pool: number): PooledPlanes {
  const { width, height, channels } = raster;
  const data = new Float32Array(PLANES * width * height);
  const pixels = width * height;
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(pixels);
    const source = Math.min(c, channels - 1);
    for (let i = 0; i < pixels; i++) plane[i] = raster.data[i * channels + source];
    data.set(boxMean(plane, width, height, pool), c * pixels);
  }
  const gradient = gradientMagnitude(toGray(raster).data, width, height);
  data.set(boxMean(gradient, width, height, pool), 3 * pixels);
  return { width, height, planes: PLANES, pool, data };
}

/** Descriptor layout of one inspection window: `points` (gx × gy) sample points spaced `pool` apart. */
export interface DescriptorShape {
  pool: number;
  gx: number;
  gy: number;
  dims: number;
}

export function descriptorShape(patchWidth: number, patchHeight: number): DescriptorShape {
  const pool = Math.max(1, Math.round(Math.min(patchWidth, patchHeight) / 8));
  const gx = Math.max(1, Math.floor(patchWidth / pool));
  const gy = Math.max(1, Math.floor(patchHeight / pool));
  return { pool, gx, gy, dims: gx * gy * PLANES };
}

/**
 * Writes the descriptor of the window whose top-left corner is (x, y) into `out` (point-major:
 * `out[(j * gx + i) * PLANES + plane]`); points outside the image read the nearest border pixel.
 */
export function readDescriptor(planes: PooledPlanes, shape: DescriptorShape, x: number, y: number, out: Float32Array): void {
  const { width, height, data } = planes;
  const pixels = width * height;
  const half = Math.floor(shape.pool / 2);
  let o = 0;
  for (let j = 0; j < shape.gy; j++) {
    const py = Math.min(height - 1, Math.max(0, y + j * shape.pool + half));
    for (let i = 0; i < shape.gx; i++) {
      const px = Math.min(width - 1, Math.max(0, x + i * shape.pool + half));
      const p = py * width + px;
      for (let c = 0; c < PLANES; c++) out[o++] = data[c * pixels + p];
    }
  }
}
