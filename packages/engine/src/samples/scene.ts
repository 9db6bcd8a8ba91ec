/**
 * The photo around a sample part: a rounded rectangle placed with a little jitter on a background, lit
 * unevenly, with a bevelled edge and a soft shadow, seen by a slightly noisy sensor. Products (`metal.ts`,
 * `wood.ts`) give the surface and its defects in part coordinates, so texture and defects move with the part.
 */
import type { Box } from '../algorithms/types.ts';
import { Random } from '../kernels/random.ts';

/** Where the part lies in the photo: centre, turn (radians) and half sizes, in pixels. */
export interface Placement {
  centreX: number;
  centreY: number;
  angle: number;
  halfWidth: number;
  halfHeight: number;
  cornerRadius: number;
}

/** A defect drawn on the part's surface. */
export interface Defect {
  kind: string;
  /** Part-coordinate bounds outside which it changes nothing (a speed-up, not a mask). */
  bounds: { uMin: number; uMax: number; vMin: number; vMax: number };
  /** Changes the surface colour at part point (u, v) in place; true where the point belongs to its mask. */
  paint(u: number, v: number, rgb: Float32Array): boolean;
}

export interface Scene {
  width: number;
  height: number;
  placement: Placement;
  /** Colour of the part's surface at part point (u, v), defects excluded, written into `rgb` (0–1). */
  surface(u: number, v: number, rgb: Float32Array): void;
  background(x: number, y: number, rgb: Float32Array): void;
  defects: Defect[];
  /** Unit vector in image coordinates pointing towards the light (for the bevel). */
  light: { x: number; y: number };
  /** Brightness slope across the photo (fraction per image width / height) and vignetting depth. */
  gradient: { x: number; y: number; vignette: number };
  bevel: { width: number; strength: number };
  shadow: { dx: number; dy: number; softness: number; strength: number };
  /** Standard deviation of the sensor noise at full brightness and in the dark (0–1 units). */
  noise: { bright: number; dark: number };
}

export interface RenderedSample {
  width: number;
  height: number;
  /** RGB, 8 bits per channel, row by row. */
  pixels: Uint8Array;
  /** 255 where a defect is, else 0; one byte per pixel. */
  mask: Uint8Array;
  /** One box per defect around its mask pixels (x/y max exclusive); defects hidden entirely are left out. */
  boxes: Box[];
}

/** Part coordinates (u along the part's width, v along its height, origin at its centre) of image point (x, y). */
export function toPart(p: Placement, x: number, y: number): [number, number] {
  const dx = x - p.centreX, dy = y - p.centreY;
  const c = Math.cos(p.angle), s = Math.sin(p.angle);
  return [c * dx + s * dy, -s * dx + c * dy];
}

/** Signed distance from (u, v) to the edge of a rounded rectangle: negative inside. */
export function roundedRectDistance(u: number, v: number, halfWidth: number, halfHeight: number, radius: number): number {
  const qx = Math.abs(u) - halfWidth + radius, qy = Math.abs(v) - halfHeight + radius;
  return length2(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

/** Length of (x, y); Math.hypot is several times slower and this runs per pixel. */
export const length2 = (x: number, y: number) => Math.sqrt(x * x + y * y);

export const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
export const smoothstep = (edge0: number, edge1: number, x: number) => {
  const t = clamp01((x - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
};

/** Renders a scene to 8-bit RGB with its defect mask; `seed` drives only the sensor noise. */
export function renderScene(scene: Scene, seed: number): RenderedSample {
  const { width, height, placement: p } = scene;
  const random = new Random(seed);
  const pixels = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  const boxes = scene.defects.map(() => ({ x_min: width, y_min: height, x_max: 0, y_max: 0 }));
  const surface = new Float32Array(3);
  const ground = new Float32Array(3);
  const cos = Math.cos(p.angle), sin = Math.sin(p.angle);
  const edge = (u: number, v: number) => roundedRectDistance(u, v, p.halfWidth, p.halfHeight, p.cornerRadius);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x + 0.5, py = y + 0.5;
      // toPart, inlined: an array per pixel keeps the garbage collector busy.
      const u = cos * (px - p.centreX) + sin * (py - p.centreY), v = -sin * (px - p.centreX) + cos * (py - p.centreY);
      const distance = edge(u, v);
      const coverage = clamp01(0.5 - distance);
      let inMask = false;
      if (coverage > 0) {
        scene.surface(u, v, surface);
        for (let k = 0; k < scene.defects.length; k++) {
          const defect = scene.defects[k], b = defect.bounds;
          if (u < b.uMin || u > b.uMax || v < b.vMin || v > b.vMax) continue;
          if (defect.paint(u, v, surface) && coverage >= 0.5) {
            inMask = true;
            const box = boxes[k];
            box.x_min = Math.min(box.x_min, x); box.y_min = Math.min(box.y_min, y);
            box.x_max = Math.max(box.x_max, x + 1); box.y_max = Math.max(box.y_max, y + 1);
          }
        }
        // The bevel: the edge band leans outwards, brighter where it faces the light.
        if (distance > -scene.bevel.width) {
          const gu = edge(u + 0.5, v) - edge(u - 0.5, v), gv = edge(u, v + 0.5) - edge(u, v - 0.5);
          const gx = cos * gu - sin * gv, gy = sin * gu + cos * gv;
          const lean = (1 + distance / scene.bevel.width) ** 2;
          const shade = 1 + scene.bevel.strength * lean * (gx * scene.light.x + gy * scene.light.y);
          for (let c = 0; c < 3; c++) surface[c] *= shade;
        }
      }
      if (coverage < 1) {
        scene.background(px, py, ground);
        const sx = px - scene.shadow.dx - p.centreX, sy = py - scene.shadow.dy - p.centreY;
        const su = cos * sx + sin * sy, sv = -sin * sx + cos * sy;
        const behind = clamp01(0.5 - edge(su, sv) / scene.shadow.softness);
        const shade = 1 - scene.shadow.strength * behind;
        for (let c = 0; c < 3; c++) ground[c] *= shade;
      }
      const nx = px / width - 0.5, ny = py / height - 0.5;
      const light = (1 + scene.gradient.x * nx + scene.gradient.y * ny) * (1 - scene.gradient.vignette * (nx * nx + ny * ny) * 2);
      const i = y * width + x;
      for (let c = 0; c < 3; c++) {
        const value = (surface[c] * coverage + ground[c] * (1 - coverage)) * light;
        const sigma = scene.noise.dark + (scene.noise.bright - scene.noise.dark) * clamp01(value);
        pixels[i * 3 + c] = Math.round(clamp01(value + sigma * random.normal()) * 255);
      }
      if (inMask) mask[i] = 255;
      surface.fill(0);
    }
  }
  return { width, height, pixels, mask, boxes: boxes.filter((b) => b.x_max > b.x_min) };
}

/** A polyline on the part (scratches, cracks) with the nearest-point query defects need. */
export class Stroke {
  readonly bounds: { uMin: number; uMax: number; vMin: number; vMax: number };
  private readonly cumulative: number[];
  readonly length: number;

  constructor(private readonly points: [number, number][], margin: number) {
    this.cumulative = [0];
    for (let k = 1; k < points.length; k++) {
      this.cumulative.push(this.cumulative[k - 1] + length2(points[k][0] - points[k - 1][0], points[k][1] - points[k - 1][1]));
    }
    this.length = this.cumulative[this.cumulative.length - 1];
    const us = points.map((q) => q[0]), vs = points.map((q) => q[1]);
    this.bounds = {
      uMin: Math.min(...us) - margin, uMax: Math.max(...us) + margin,
      vMin: Math.min(...vs) - margin, vMax: Math.max(...vs) + margin,
    };
  }

  /** Distance to the polyline and where along it (0 at the start, 1 at the end) the nearest point lies. */
  nearest(u: number, v: number): { distance: number; along: number } {
    let best = Infinity, along = 0;
    for (let k = 1; k < this.points.length; k++) {
      const [ax, ay] = this.points[k - 1], [bx, by] = this.points[k];
      const dx = bx - ax, dy = by - ay;
      const lengthSq = dx * dx + dy * dy || 1e-9;
      const t = clamp01(((u - ax) * dx + (v - ay) * dy) / lengthSq);
      const d = length2(u - ax - t * dx, v - ay - t * dy);
      if (d < best) {
        best = d;
        along = (this.cumulative[k - 1] + t * Math.sqrt(lengthSq)) / (this.length || 1);
      }
    }
    return { distance: best, along };
  }
}

/** Uniform in [lo, hi). */
export const between = (random: Random, lo: number, hi: number) => lo + random.next() * (hi - lo);

/** A placement of a part of the given half size near the photo's centre, shifted and turned a little. */
export function jitteredPlacement(
  random: Random, width: number, height: number,
  size: { halfWidth: number; halfHeight: number; cornerRadius: number },
  jitter: { shift: number; degrees: number },
): Placement {
  return {
    centreX: width / 2 + between(random, -1, 1) * jitter.shift * width,
    centreY: height / 2 + between(random, -1, 1) * jitter.shift * height,
    angle: (between(random, -1, 1) * jitter.degrees * Math.PI) / 180,
    ...size,
  };
}
