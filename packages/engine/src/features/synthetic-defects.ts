import type { FloatMap } from '../image/raster.ts';
import type { Random } from '../kernels/random.ts';

/**
 * Synthetic defects drawn into a copy of one lightness plane (one pyramid level of a good image), with the mask of the
 * pixels they changed: what the discriminator (`discriminator.ts`) learns to tell from good texture. Three kinds, as
 * DRÆM and CutPaste make them: a patch of another good image (or of the same one elsewhere) pasted turned; a blotch of
 * smooth value noise that darkens or brightens; a thin meandering line, dark or bright, like a crack or scratch.
 * Sizes are in the plane's pixels, tones in units of the plane's own spread (`spread`), so the same maker serves every
 * pyramid level and every exposure normalisation.
 */
export interface SyntheticDefect {
  plane: FloatMap;
  /** 1 where a defect changed the pixel. */
  mask: Uint8Array;
}

export type SyntheticDefectKind = 'paste' | 'blotch' | 'line';
export const SYNTHETIC_DEFECT_KINDS: SyntheticDefectKind[] = ['paste', 'blotch', 'line'];

/** Draws `count` defects (kinds at random) into a copy of `plane`; `donors` are other good planes of the same level. */
export function synthesizeDefects(plane: FloatMap, donors: FloatMap[], spread: number, count: number, random: Random): SyntheticDefect {
  const data = Float32Array.from(plane.data);
  const out: SyntheticDefect = { plane: { width: plane.width, height: plane.height, data }, mask: new Uint8Array(data.length) };
  for (let i = 0; i < count; i++) {
    const kind = SYNTHETIC_DEFECT_KINDS[random.int(SYNTHETIC_DEFECT_KINDS.length)];
    if (kind === 'paste') pasteTurned(out, donors.length ? donors[random.int(donors.length)] : plane, random);
    else if (kind === 'blotch') blotch(out, spread, random);
    else line(out, spread, random);
  }
  return out;
}

/** A random elliptic patch of `donor`, turned by a random angle and pasted at a random place. */
function pasteTurned(target: SyntheticDefect, donor: FloatMap, random: Random): void {
  const { width, height, data } = target.plane;
  const short = Math.min(width, height);
  const rx = Math.max(2, short * (0.03 + 0.09 * random.next())), ry = Math.max(2, short * (0.03 + 0.09 * random.next()));
  const cx = random.next() * width, cy = random.next() * height;
  const sx = random.next() * donor.width, sy = random.next() * donor.height;
  // At least 30° away from the unturned patch: the texture must be turned, not merely moved.
  const angle = (Math.PI / 6) + random.next() * (Math.PI * 5 / 3);
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const reach = Math.ceil(Math.max(rx, ry));
  for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(height - 1, Math.ceil(cy + reach)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(width - 1, Math.ceil(cx + reach)); x++) {
      const dx = x - cx, dy = y - cy;
      if ((dx / rx) ** 2 + (dy / ry) ** 2 > 1) continue;
      const u = Math.round(sx + cos * dx - sin * dy), v = Math.round(sy + sin * dx + cos * dy);
      const from = Math.min(donor.height - 1, Math.max(0, v)) * donor.width + Math.min(donor.width - 1, Math.max(0, u));
      data[y * width + x] = donor.data[from];
      target.mask[y * width + x] = 1;
    }
  }
}

/** Smooth value noise (a coarse random grid, smoothstep-interpolated) over a disc, kept where it is high: a blotch. */
function blotch(target: SyntheticDefect, spread: number, random: Random): void {
  const { width, height, data } = target.plane;
  const short = Math.min(width, height);
  const radius = Math.max(3, short * (0.03 + 0.12 * random.next()));
  const cx = random.next() * width, cy = random.next() * height;
  const cells = 3 + random.int(4);
  const grid = Float32Array.from({ length: (cells + 1) * (cells + 1) }, () => random.next());
  const tone = (random.next() < 0.5 ? -1 : 1) * spread * (0.3 + 1.5 * random.next());
  const reach = Math.ceil(radius);
  const fade = (t: number) => t * t * (3 - 2 * t);
  for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(height - 1, Math.ceil(cy + reach)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(width - 1, Math.ceil(cx + reach)); x++) {
      const r = Math.hypot(x - cx, y - cy) / radius;
      if (r >= 1) continue;
      const gx = ((x - cx) / radius + 1) * 0.5 * cells, gy = ((y - cy) / radius + 1) * 0.5 * cells;
      const ix = Math.min(cells - 1, Math.floor(gx)), iy = Math.min(cells - 1, Math.floor(gy));
      const fx = fade(gx - ix), fy = fade(gy - iy), row = cells + 1;
      const top = grid[iy * row + ix] * (1 - fx) + grid[iy * row + ix + 1] * fx;
      const bottom = grid[(iy + 1) * row + ix] * (1 - fx) + grid[(iy + 1) * row + ix + 1] * fx;
      // Noise in [0, 1], faded towards the rim; only its upper part makes the blotch, so its outline is irregular.
      const strength = Math.max(0, (top * (1 - fy) + bottom * fy) * (1 - r * r) - 0.25) / 0.75;
      if (strength <= 0.05) continue;
      data[y * width + x] += tone * strength;
      target.mask[y * width + x] = 1;
    }
  }
}

/** A thin line that meanders (its direction drifts at random), darker or brighter than its surroundings. */
function line(target: SyntheticDefect, spread: number, random: Random): void {
  const { width, height, data } = target.plane;
  const short = Math.min(width, height);
  const length = short * (0.1 + 0.4 * random.next());
  const halfWidth = 0.5 + 1.5 * random.next();
  const tone = (random.next() < 0.7 ? -1 : 1) * spread * (0.5 + 2 * random.next());
  let x = random.next() * width, y = random.next() * height, angle = random.next() * Math.PI * 2;
  const reach = Math.ceil(halfWidth * 2);
  const touched = new Set<number>();
  const weight = new Map<number, number>();
  for (let t = 0; t < length; t += 0.5) {
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const px = Math.round(x) + dx, py = Math.round(y) + dy;
        if (px < 0 || py < 0 || px >= width || py >= height) continue;
        const d = Math.hypot(px - x, py - y);
        const w = Math.exp(-0.5 * (d / halfWidth) ** 2);
        const i = py * width + px;
        if (w > (weight.get(i) ?? 0)) weight.set(i, w);
        touched.add(i);
      }
    }
    angle += 0.15 * random.normal();
    x += 0.5 * Math.cos(angle);
    y += 0.5 * Math.sin(angle);
  }
  for (const i of touched) {
    const w = weight.get(i)!;
    data[i] += tone * w;
    // The faint rim (weight ≤ 0.3, at most 0.75 of the spread) is left unmarked: neither defect nor good sample.
    if (w > 0.3) target.mask[i] = 1;
  }
}
