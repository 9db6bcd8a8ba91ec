/**
 * Procedural sample images, reproducible from a seed, with pixel masks of their defects: the demo's data and
 * a dataset in the MVTec AD layout for `kensa bench`. Products: brushed metal plates (scratches, dents) and
 * wood blocks (knots, cracks).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box } from '../algorithms/types.ts';
import { Random } from '../kernels/random.ts';
import { METAL_DEFECTS, metalScene } from './metal.ts';
import { renderScene, type RenderedSample, type Scene } from './scene.ts';
import { WOOD_DEFECTS, woodScene } from './wood.ts';

export type { RenderedSample } from './scene.ts';

export type SampleProduct = 'metal' | 'wood';

interface ProductDefinition {
  defects: readonly string[];
  scene(random: Random, defect: string | null): Scene;
}

const PRODUCTS: Record<SampleProduct, ProductDefinition> = {
  metal: { defects: METAL_DEFECTS, scene: metalScene },
  wood: { defects: WOOD_DEFECTS, scene: woodScene },
};

export const SAMPLE_PRODUCTS = Object.keys(PRODUCTS) as SampleProduct[];

/** The defect kinds a product's images may show. */
export function sampleDefects(product: SampleProduct): readonly string[] {
  const definition = PRODUCTS[product];
  if (!definition) throw new Error(`Unknown sample product ${product}; known: ${SAMPLE_PRODUCTS.join(', ')}`);
  return definition.defects;
}

/** One image of a product, good (`defect` null) or with defects of one kind; the same seed gives the same pixels. */
export function renderSample(product: SampleProduct, defect: string | null, seed: number): RenderedSample {
  if (defect !== null && !sampleDefects(product).includes(defect)) {
    throw new Error(`${product} samples have no defect ${defect}; known: ${sampleDefects(product).join(', ')}`);
  }
  const random = new Random(seed);
  const scene = PRODUCTS[product].scene(random, defect);
  return renderScene(scene, Math.floor(random.next() * 2 ** 31));
}

/** Mixes a seed with indices into another seed (so that image k does not depend on how many come before it). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed >>> 0) ^ 0x2545f491;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

export interface SampleCounts {
  /** Good images to train on. */
  trainGood: number;
  /** Good images to test on. */
  testGood: number;
  /** Test images of each defect kind. */
  testPerDefect: number;
}

export const DEFAULT_SAMPLE_COUNTS: SampleCounts = { trainGood: 40, testGood: 20, testPerDefect: 15 };

export interface SampleImage extends RenderedSample {
  /** File stem, unique across the whole set (it becomes the item id when uploaded). */
  name: string;
  split: 'train' | 'test';
  /** Defect kind, or null for a good image. */
  defect: string | null;
}

export interface SampleSetOptions {
  seed: number;
  product: SampleProduct;
  counts?: Partial<SampleCounts>;
}

/** Lazily renders a set: train/good, test/good, then each defect kind's test images. */
export function* generateSampleSet(options: SampleSetOptions): Generator<SampleImage> {
  const counts = { ...DEFAULT_SAMPLE_COUNTS, ...options.counts };
  for (const [key, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`counts.${key} must be a whole number ≥ 0, not ${value}`);
  }
  const { product, seed } = options;
  const groups: { split: 'train' | 'test'; defect: string | null; label: string; count: number }[] = [
    { split: 'train', defect: null, label: 'train', count: counts.trainGood },
    { split: 'test', defect: null, label: 'good', count: counts.testGood },
    ...sampleDefects(product).map((defect) => ({ split: 'test' as const, defect, label: defect, count: counts.testPerDefect })),
  ];
  const productIndex = SAMPLE_PRODUCTS.indexOf(product);
  for (const [groupIndex, group] of groups.entries()) {
    for (let k = 0; k < group.count; k++) {
      const rendered = renderSample(product, group.defect, deriveSeed(seed, productIndex, groupIndex, k));
      yield { ...rendered, name: `${product}-${group.label}-${String(k).padStart(3, '0')}`, split: group.split, defect: group.defect };
    }
  }
}

export type SampleFormat = 'png' | 'jpeg';

/** Encodes a sample's pixels (PNG lossless, or JPEG quality 92 as a camera might save them). */
export function encodeSampleImage(sample: RenderedSample, format: SampleFormat = 'png'): Promise<Buffer> {
  const image = sharp(Buffer.from(sample.pixels.buffer, sample.pixels.byteOffset, sample.pixels.byteLength), {
    raw: { width: sample.width, height: sample.height, channels: 3 },
  });
  return format === 'jpeg' ? image.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer() : image.png({ compressionLevel: 6 }).toBuffer();
}

/** Encodes a sample's defect mask as a grey PNG: 255 on defects, 0 elsewhere (the MVTec convention). */
export function encodeSampleMask(sample: RenderedSample): Promise<Buffer> {
  return sharp(Buffer.from(sample.mask.buffer, sample.mask.byteOffset, sample.mask.byteLength), {
    raw: { width: sample.width, height: sample.height, channels: 1 },
  }).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
}

export interface SampleExportOptions extends SampleSetOptions {
  format?: SampleFormat;
}

export interface ExportedSampleDataset {
  dir: string;
  images: number;
  masks: number;
  /** Relative path of each image with its defect boxes (original pixels), for annotations. */
  boxes: Record<string, Box[]>;
}

/**
 * Writes a sample set in the MVTec AD layout: `train/good`, `test/good`, `test/<defect>` and
 * `ground_truth/<defect>/<name>_mask.png`, so that `kensa bench DIR` runs on it.
 */
export async function exportSampleDataset(dir: string, options: SampleExportOptions): Promise<ExportedSampleDataset> {
  const format = options.format ?? 'png';
  const extension = format === 'jpeg' ? 'jpg' : 'png';
  const result: ExportedSampleDataset = { dir, images: 0, masks: 0, boxes: {} };
  const made = new Set<string>();
  const folder = async (...parts: string[]) => {
    const path = join(dir, ...parts);
    if (!made.has(path)) { await mkdir(path, { recursive: true }); made.add(path); }
    return path;
  };
  for (const sample of generateSampleSet(options)) {
    const kind = sample.defect ?? 'good';
    const relative = join(sample.split, kind, `${sample.name}.${extension}`);
    await writeFile(join(await folder(sample.split, kind), `${sample.name}.${extension}`), await encodeSampleImage(sample, format));
    result.images++;
    result.boxes[relative] = sample.boxes;
    if (sample.defect !== null) {
      await writeFile(join(await folder('ground_truth', kind), `${sample.name}_mask.png`), await encodeSampleMask(sample));
      result.masks++;
    }
  }
  return result;
}

export {
  countSampleResults, encodeSampleProject, planSampleProject, runSampleProject, sampleAnnotations, sampleModelName, sampleTrainingItemIds, sampleUploadBatches,
  sampleUploads, SAMPLE_PROJECT_COUNTS, SAMPLE_UPLOAD_BATCH, type SampleProjectImage, type SampleProjectPlan, type SampleProjectProgress,
  type SampleProjectResults, type SampleProjectSteps, type SampleUpload,
} from './project.ts';
