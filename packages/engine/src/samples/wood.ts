/**
 * Wood blocks: a planed block on a pale grey mat, its face showing growth rings (lighter earlywood, darker
 * latewood, wavy and slightly slanted, a different piece of tree each time) and fine fibres; defects are
 * knots (a dark ringed ellipse the grain bends around) and cracks (a dark jagged split roughly along the grain).
 */
import { Random } from '../kernels/random.ts';
import { FractalNoise, sampleField, streakTexture, ValueNoise } from './noise.ts';
import { between, length2, jitteredPlacement, smoothstep, Stroke, type Defect, type Scene } from './scene.ts';

export const WOOD_DEFECTS = ['knot', 'crack'] as const;

const WIDTH = 384;
const HEIGHT = 288;

interface Knot {
  centreU: number;
  centreV: number;
  /** Half axes along and across the grain. */
  along: number;
  across: number;
}

export function woodScene(random: Random, defectKind: string | null): Scene {
  const placement = jitteredPlacement(random, WIDTH, HEIGHT,
    { halfWidth: WIDTH * between(random, 0.41, 0.43), halfHeight: HEIGHT * between(random, 0.33, 0.35), cornerRadius: 3 },
    { shift: 0.02, degrees: 2.5 });
  const { halfWidth, halfHeight } = placement;
  const lightAngle = (-115 + between(random, -15, 15)) * (Math.PI / 180);
  const light = { x: Math.cos(lightAngle), y: Math.sin(lightAngle) };

  const knots: Knot[] = [];
  const defects: Defect[] = [];
  if (defectKind !== null) {
    const area = { u: halfWidth - 12, v: halfHeight - 10 };
    const count = random.next() < 0.25 ? 2 : 1;
    for (let k = 0; k < count; k++) {
      if (defectKind === 'knot') {
        const knot: Knot = { along: between(random, 8, 16), across: 0, centreU: 0, centreV: 0 };
        knot.across = knot.along * between(random, 0.55, 0.85);
        knot.centreU = between(random, -1, 1) * (area.u - knot.along * 2);
        knot.centreV = between(random, -1, 1) * (area.v - knot.across * 2);
        knots.push(knot);
        defects.push(knotDefect(random, knot));
      } else defects.push(crack(random, area, halfWidth));
    }
  }

  // The tree: ring spacing, slant, waviness and colours differ from block to block.
  const period = between(random, 7, 12);
  const slant = between(random, -0.06, 0.06);
  const fieldWidth = Math.ceil(halfWidth * 2) + 4, fieldHeight = Math.ceil(halfHeight * 2) + 4;
  const waves = new FractalNoise(random, fieldWidth, fieldHeight, 90, 2);
  const ripple = new ValueNoise(random, fieldWidth, fieldHeight, 14);
  const waveDepth = between(random, 1.5, 3) * period;
  const fibres = streakTexture(random, fieldWidth, fieldHeight, 25);
  const stain = new FractalNoise(random, fieldWidth, fieldHeight, 60, 2);
  const ringOffset = random.next() * 1000;
  const ringStrength = Float32Array.from({ length: 64 }, () => between(random, 0.55, 1));
  const warmth = between(random, -0.04, 0.04);
  const early = [0.8 + warmth, 0.6 + warmth * 0.5, 0.4];
  const late = [0.56 + warmth, 0.35, 0.19];

  const surface = (u: number, v: number, rgb: Float32Array) => {
    const fu = u + halfWidth + 2, fv = v + halfHeight + 2;
    let across = v + slant * u + waveDepth * waves.at(fu, fv) + 0.2 * period * ripple.at(fu, fv);
    for (const knot of knots) {
      // The grain parts around a knot: rings are pushed away from its centre, most near it.
      const du = (u - knot.centreU) / (knot.along * 3), dv = (v - knot.centreV) / (knot.across * 2.5);
      across += 2 * knot.across * Math.tanh((v - knot.centreV) / knot.across) * Math.exp(-(du * du + dv * dv));
    }
    const phase = across / period + ringOffset;
    const ring = Math.floor(phase), t = phase - ring;
    // Within a year's ring the wood darkens slowly (earlywood to latewood), then the next ring starts at once.
    const latewood = smoothstep(0.3, 0.9, t) ** 2 * (1 - smoothstep(0.93, 1, t)) * ringStrength[((ring % 64) + 64) % 64];
    const fibre = 1 + 0.035 * sampleField(fibres, fieldWidth, fieldHeight, fu, fv) + 0.04 * stain.at(fu, fv);
    for (let c = 0; c < 3; c++) rgb[c] = (early[c] + (late[c] - early[c]) * latewood * 0.75) * fibre;
  };

  const mat = new FractalNoise(random, WIDTH, HEIGHT, 40, 2);
  const background = (x: number, y: number, rgb: Float32Array) => {
    const value = 0.72 + 0.02 * mat.at(x, y);
    rgb[0] = value * 0.98; rgb[1] = value; rgb[2] = value * 1.03;
  };

  return {
    width: WIDTH, height: HEIGHT, placement, surface, background, defects, light,
    gradient: { x: between(random, -0.2, 0.2), y: between(random, -0.15, 0.15), vignette: between(random, 0.05, 0.2) },
    bevel: { width: 3, strength: 0.35 },
    shadow: { dx: 4 - light.x * 2, dy: 5 - light.y * 2, softness: 7, strength: 0.35 },
    noise: { bright: 0.013, dark: 0.008 },
  };
}

/** A knot: a dark brown ellipse with its own tight rings and a darker rim. */
function knotDefect(random: Random, knot: Knot): Defect {
  const colour = [between(random, 0.3, 0.4), between(random, 0.17, 0.22), 0.09];
  const ringPhase = random.next() * Math.PI * 2;
  // Knots are not perfect ellipses: their outline wobbles a little.
  const wobble = [between(random, 0.03, 0.08), random.next() * Math.PI * 2, between(random, 0.02, 0.05), random.next() * Math.PI * 2];
  const reach = 1.2;
  return {
    kind: 'knot',
    bounds: {
      uMin: knot.centreU - knot.along * reach, uMax: knot.centreU + knot.along * reach,
      vMin: knot.centreV - knot.across * reach, vMax: knot.centreV + knot.across * reach,
    },
    paint(u, v, rgb) {
      const du = (u - knot.centreU) / knot.along, dv = (v - knot.centreV) / knot.across;
      const angle = Math.atan2(dv, du);
      const e = length2(du, dv) / (1 + wobble[0] * Math.sin(3 * angle + wobble[1]) + wobble[2] * Math.sin(5 * angle + wobble[3]));
      if (e >= reach) return false;
      const rings = 0.85 + 0.15 * Math.sin(e * 22 + ringPhase);
      const rim = 1 - 0.35 * Math.exp(-(((e - 0.93) / 0.07) ** 2));
      const cover = smoothstep(reach, 0.85, e);
      for (let c = 0; c < 3; c++) rgb[c] = (rgb[c] * (1 - cover) + colour[c] * rings * cover) * rim;
      return e < 1.02;
    },
  };
}

/** A crack: a jagged dark split, roughly along the grain, widest in its middle. */
function crack(random: Random, area: { u: number; v: number }, halfWidth: number): Defect {
  const length = between(random, 0.15, 0.32) * halfWidth * 2;
  const steps = Math.ceil(length / 3);
  const main = between(random, -0.2, 0.2) + (random.next() < 0.5 ? 0 : Math.PI);
  let heading = main;
  const startU = between(random, -1, 1) * (area.u - length / 2) - (Math.cos(main) * length) / 2;
  const startV = between(random, -0.8, 0.8) * area.v;
  const points: [number, number][] = [[startU, startV]];
  for (let k = 0; k < steps; k++) {
    heading += 0.15 * random.normal() - 0.25 * (heading - main);
    const [u, v] = points[points.length - 1];
    points.push([u + 3 * Math.cos(heading), Math.min(area.v, Math.max(-area.v, v + 3 * Math.sin(heading)))]);
  }
  const widest = between(random, 0.9, 1.8);
  const stroke = new Stroke(points, widest + 4);
  return {
    kind: 'crack',
    bounds: stroke.bounds,
    paint(u, v, rgb) {
      const { distance, along } = stroke.nearest(u, v);
      const taper = Math.sin(Math.PI * along) ** 0.6;
      const w = widest * taper;
      const split = smoothstep(w + 0.9, w - 0.4, distance) * Math.min(1, taper * 3);
      const halo = 0.12 * Math.exp(-(((distance - w) / 1.6) ** 2)) * taper;
      for (let c = 0; c < 3; c++) rgb[c] *= (1 - 0.75 * split) * (1 - halo);
      return distance < w + 0.8 && taper > 0.15;
    },
  };
}
