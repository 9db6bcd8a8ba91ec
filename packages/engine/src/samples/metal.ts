/**
 * Brushed metal plates: a steel plate with four countersunk holes on a dark rubber mat, brushed along its
 * width, with a broad sheen band; defects are scratches (thin, across the brushing, bright or dark) and dents
 * (a shallow bowl: shaded on its sides, its brushing smoothed out).
 */
import { Random } from '../kernels/random.ts';
import { FractalNoise, sampleField, streakTexture } from './noise.ts';
import { between, length2, jitteredPlacement, Stroke, type Defect, type Scene } from './scene.ts';

export const METAL_DEFECTS = ['scratch', 'dent'] as const;

const WIDTH = 384;
const HEIGHT = 288;
const HOLE_INSET = 18;
const HOLE_RADIUS = 4.5;
const COUNTERSINK_RADIUS = 8;

export function metalScene(random: Random, defectKind: string | null): Scene {
  const placement = jitteredPlacement(random, WIDTH, HEIGHT,
    { halfWidth: WIDTH * 0.4, halfHeight: HEIGHT * 0.37, cornerRadius: 12 }, { shift: 0.02, degrees: 2 });
  const { halfWidth, halfHeight } = placement;
  // Light from the upper left, a little different in each shot.
  const lightAngle = (-125 + between(random, -12, 12)) * (Math.PI / 180);
  const light = { x: Math.cos(lightAngle), y: Math.sin(lightAngle) };
  const lightOnPart = {
    u: Math.cos(placement.angle) * light.x + Math.sin(placement.angle) * light.y,
    v: -Math.sin(placement.angle) * light.x + Math.cos(placement.angle) * light.y,
  };

  const fieldWidth = Math.ceil(halfWidth * 2) + 4, fieldHeight = Math.ceil(halfHeight * 2) + 4;
  // One batch of plates: the same finish on each, give or take a little.
  const brushing = streakTexture(random, fieldWidth, fieldHeight, between(random, 55, 70));
  const grain = streakTexture(random, fieldWidth, fieldHeight, 3);
  const tone = between(random, 0.58, 0.62);
  const tint = [0.97, 1, 1.035];
  // The sheen band is where light, plate and camera line up: nearly the same place in every shot of the station.
  const sheenCentre = (-0.25 + between(random, -0.1, 0.1)) * halfWidth;
  const sheenWidth = between(random, 0.3, 0.4) * halfWidth * 2;
  const sheenStrength = between(random, 0.05, 0.08);
  const brushingDepth = between(random, 0.05, 0.058);
  const holes: [number, number][] = [[-1, -1], [1, -1], [-1, 1], [1, 1]].map(([su, sv]) => [su * (halfWidth - HOLE_INSET), sv * (halfHeight - HOLE_INSET)]);

  const plain = (u: number) => tone * (1 + sheenStrength * Math.exp(-(((u - sheenCentre) / sheenWidth) ** 2)) / tone);
  const surface = (u: number, v: number, rgb: Float32Array) => {
    const fu = u + halfWidth + 2, fv = v + halfHeight + 2;
    let value = plain(u) * (1 + brushingDepth * sampleField(brushing, fieldWidth, fieldHeight, fu, fv) + 0.02 * sampleField(grain, fieldWidth, fieldHeight, fu, fv));
    for (const [hu, hv] of holes) {
      const r = length2(u - hu, v - hv);
      if (r >= COUNTERSINK_RADIUS) continue;
      if (r < HOLE_RADIUS) value = 0.08 + 0.04 * (r / HOLE_RADIUS); // the mat seen through the hole
      else {
        // The countersink slopes inwards: its far side from the light faces it.
        const facing = ((u - hu) * lightOnPart.u + (v - hv) * lightOnPart.v) / r;
        value *= 0.8 - 0.35 * facing;
      }
    }
    for (let c = 0; c < 3; c++) rgb[c] = value * tint[c];
  };

  const mat = new FractalNoise(random, WIDTH, HEIGHT, 48, 2);
  const background = (x: number, y: number, rgb: Float32Array) => {
    const value = 0.15 + 0.012 * mat.at(x, y);
    rgb[0] = value; rgb[1] = value * 1.03; rgb[2] = value * 1.08;
  };

  const defects: Defect[] = [];
  if (defectKind !== null) {
    // Defects stay clear of the holes and the bevel, where no inspector would call them.
    const area = { u: halfWidth - COUNTERSINK_RADIUS - HOLE_INSET - 4, v: halfHeight - COUNTERSINK_RADIUS - HOLE_INSET - 4 };
    const count = defectKind === 'scratch' && random.next() < 0.25 ? 2 : 1;
    for (let k = 0; k < count; k++) {
      defects.push(defectKind === 'scratch' ? scratch(random, area, halfWidth) : dent(random, area, lightOnPart, (u, c) => plain(u) * tint[c]));
    }
  }

  return {
    width: WIDTH, height: HEIGHT, placement, surface, background, defects, light,
    gradient: { x: between(random, -0.08, 0.08), y: between(random, -0.06, 0.06), vignette: between(random, 0.08, 0.14) },
    bevel: { width: 4, strength: 0.45 },
    shadow: { dx: 3 - light.x * 2, dy: 4 - light.y * 2, softness: 6, strength: 0.5 },
    noise: { bright: 0.014, dark: 0.008 },
  };
}

/** A thin curved line across the brushing, bright (it catches the light) or dark (a groove), tapering at its ends. */
function scratch(random: Random, area: { u: number; v: number }, halfWidth: number): Defect {
  const length = between(random, 0.15, 0.35) * halfWidth * 2;
  // Across the brushing: at least 25° from it, so that it is a defect and not one more brush line.
  const heading = (random.next() < 0.5 ? 1 : -1) * between(random, 25, 155) * (Math.PI / 180);
  const dirU = Math.cos(heading), dirV = Math.sin(heading);
  const midU = between(random, -1, 1) * Math.max(0, area.u - Math.abs(dirU) * length / 2);
  const midV = between(random, -1, 1) * Math.max(0, area.v - Math.abs(dirV) * length / 2);
  const bend = between(random, -0.12, 0.12) * length;
  const points: [number, number][] = [];
  for (let k = 0; k <= 24; k++) {
    const t = k / 24 - 0.5;
    const sideways = bend * (1 - 4 * t * t);
    points.push([midU + dirU * t * length - dirV * sideways, midV + dirV * t * length + dirU * sideways]);
  }
  const halfLine = between(random, 1, 1.8);
  const depth = between(random, 0.25, 0.4);
  const bright = random.next() < 0.5;
  const stroke = new Stroke(points, halfLine * 4 + 2);
  return {
    kind: 'scratch',
    bounds: stroke.bounds,
    paint(u, v, rgb) {
      const { distance, along } = stroke.nearest(u, v);
      const taper = Math.sin(Math.PI * along) ** 0.4;
      const w = halfLine * (0.5 + 0.5 * taper);
      const groove = Math.exp(-((distance / w) ** 2)) * taper * depth;
      const lip = Math.exp(-(((distance - 2.2 * w) / w) ** 2)) * taper * depth * 0.35;
      for (let c = 0; c < 3; c++) rgb[c] = bright ? rgb[c] + groove - lip * 0.5 : rgb[c] * (1 - groove) + lip;
      return distance <= w + 1 && taper > 0.25;
    },
  };
}

/** A shallow bowl: lit on the side away from the light, shaded on the other, its brushing burnished away. */
function dent(random: Random, area: { u: number; v: number }, lightOnPart: { u: number; v: number }, flat: (u: number, channel: number) => number): Defect {
  const radius = between(random, 7, 15);
  const centreU = between(random, -1, 1) * (area.u - radius);
  const centreV = between(random, -1, 1) * (area.v - radius);
  const shading = between(random, 0.28, 0.4);
  return {
    kind: 'dent',
    bounds: { uMin: centreU - radius, uMax: centreU + radius, vMin: centreV - radius, vMax: centreV + radius },
    paint(u, v, rgb) {
      const du = u - centreU, dv = v - centreV;
      const r = length2(du, dv);
      if (r >= radius) return false;
      const facing = r > 1e-6 ? (du * lightOnPart.u + dv * lightOnPart.v) / r : 0;
      const shade = 1 + shading * Math.sin((Math.PI * r) / radius) * facing;
      const smoothing = 0.6 * (1 - (r / radius) ** 2);
      for (let c = 0; c < 3; c++) rgb[c] = (rgb[c] * (1 - smoothing) + flat(u, c) * smoothing) * shade;
      return r < radius * 0.9;
    },
  };
}
