import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { getAlgorithm } from '../algorithms/registry.ts';
import type { Box } from '../algorithms/types.ts';
import { decodeForModel, modelWorkingSize, predictRaster, serializeModel, trainModel, type TrainedModel, type TrainingImage } from '../engine.ts';
import { fitWithin, resizeMap, type FloatMap } from '../image/raster.ts';
import { aupro, auroc, confusionAt, labelComponents, pixelAuroc } from '../metrics/index.ts';
import { num } from '../params/schema.ts';

/** One image of a dataset in the MVTec AD layout. */
export interface DatasetImage {
  path: string;
  defect: string | null;
  maskPath: string | null;
}

export interface MvtecDataset {
  name: string;
  train: DatasetImage[];
  test: DatasetImage[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp']);
const naturalSort = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

async function listImages(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort(naturalSort).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export async function loadMvtecDataset(root: string): Promise<MvtecDataset> {
  const train = (await listImages(join(root, 'train', 'good'))).map((path) => ({ path, defect: null, maskPath: null }));
  if (train.length === 0) throw new Error(`${root} has no train/good images (MVTec layout expected)`);
  const test: DatasetImage[] = [];
  const kinds = (await readdir(join(root, 'test'))).sort(naturalSort);
  for (const kind of kinds) {
    const masks = new Set(await listImages(join(root, 'ground_truth', kind)));
    for (const path of await listImages(join(root, 'test', kind))) {
      const stem = basename(path, extname(path));
      const maskPath = [...masks].find((m) => basename(m, extname(m)) === `${stem}_mask`) ?? null;
      test.push({ path, defect: kind === 'good' ? null : kind, maskPath });
    }
  }
  return { name: basename(root), train, test };
}

/** A mask as a binary map at a given size. */
export async function loadMask(path: string, width: number, height: number): Promise<FloatMap> {
  const { data } = await sharp(path).greyscale().resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i] > 127 ? 1 : 0;
  return { width, height, data: out };
}

/** Boxes around each connected region of a mask (original pixels), or the whole image without a mask. */
async function boxesOf(image: DatasetImage): Promise<Box[]> {
  const meta = await sharp(image.path).metadata();
  const width = meta.width ?? 1, height = meta.height ?? 1;
  if (!image.maskPath) return [{ x_min: 0, y_min: 0, x_max: width, y_max: height }];
  const mask = await loadMask(image.maskPath, width, height);
  const { labels, count } = labelComponents(mask);
  const boxes: Box[] = [];
  for (let r = 1; r <= count; r++) {
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== r) continue;
      const x = i % width, y = (i - x) / width;
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    boxes.push({ x_min: x0, y_min: y0, x_max: x1 + 1, y_max: y1 + 1 });
  }
  return boxes;
}

export interface BenchResult {
  algorithm: string;
  /** The dataset's folder name. */
  dataset: string;
  image_auroc: number;
  /** Image AUROC of each defect kind (its folder under test/) against the good test images: which kinds a model misses. */
  image_auroc_by_defect: Record<string, number>;
  pixel_auroc: number | null;
  aupro: number | null;
  f1: number;
  threshold: number;
  train_seconds: number;
  /**
   * Processor time of the process (user + system) for training, and for training and scoring together: on a
   * shared machine wall-clock times grow with other work's load, these do not (much).
   */
  train_cpu_seconds: number;
  cpu_seconds: number;
  decode_ms_per_image: number;
  infer_ms_per_image: number;
  /** Inference time over decode time: what the model adds to reading an image. */
  infer_decode_ratio: number;
  /**
   * Peak resident memory of the process through training and scoring (read before the pixel metrics, which are
   * the bench's own cost), and at the end of training. Per set and algorithm only when each runs in a process of
   * its own, as `kensa bench` does for a suite.
   */
  peak_rss_mb: number;
  train_peak_rss_mb: number;
  model_mb: number;
  test_images: number;
  /** The values AutoTune chose for the parameters left out (empty for algorithms without candidates). */
  auto_tuned: Record<string, unknown>;
}

/**
 * Pixel metrics are taken on maps and masks of at most this longest side, whatever the working size: figures stay
 * comparable between algorithms and settings, and 500 maps of a 512-pixel working size (131 M pixels, twice, with
 * their masks) no longer exhaust the bench process (V8 refused the array in the first full run at that size).
 */
export const PIXEL_METRICS_SIDE = 256;

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

export interface BenchOptions {
  size?: number;
  params?: Record<string, unknown>;
  onProgress?: (message: string) => void;
  calibration?: 'global' | 'location';
  /** Use only every k-th image (quick runs in tests). */
  subsample?: number;
  /** Cross-fitting threads (`trainModel`'s option): 1 for an algorithm a worker thread cannot rebuild (not in the registry it loads). */
  threads?: number;
}

/**
 * What a bench run trains on and scores: train/good, and for RF (supervised) also a fixed half of the defects (even
 * positions among them) with their masks as boxes, which then leave the test images.
 */
export async function benchSplit(dataset: MvtecDataset, algorithmId: string): Promise<{ images: TrainingImage[]; test: DatasetImage[] }> {
  const images: TrainingImage[] = [];
  for (const image of dataset.train) images.push({ bytes: await readFile(image.path), good: true });
  if (getAlgorithm(algorithmId).type !== 'supervised') return { images, test: dataset.test };
  const teach = new Set(dataset.test.filter((t) => t.defect).filter((_, i) => i % 2 === 0));
  for (const image of teach) images.push({ bytes: await readFile(image.path), good: false, boxes: await boxesOf(image) });
  return { images, test: dataset.test.filter((t) => !teach.has(t)) };
}

/** Each defect kind's image AUROC against the good test images (the kind is the test/ folder). */
function aurocByDefect(scores: number[], defects: (string | null)[]): Record<string, number> {
  const good = scores.filter((_, i) => defects[i] === null);
  const kinds = [...new Set(defects.filter((d): d is string => d !== null))].sort();
  if (good.length === 0) return {};
  return Object.fromEntries(kinds.map((kind) => [kind, auroc([...good, ...scores.filter((_, i) => defects[i] === kind)],
    [...good.map(() => false), ...defects.filter((d) => d === kind).map(() => true)])]));
}

/**
 * Trains one algorithm on train/good (RF also on the annotated defects of a fixed half of test/, scored on
 * the other half) and scores every test image: image AUROC, pixel AUROC, AUPRO, F1 at the model's threshold.
 */
export async function benchAlgorithm(dataset: MvtecDataset, algorithmId: string, options: BenchOptions = {}): Promise<BenchResult> {
  const log = options.onProgress ?? (() => {});
  const pick = <T>(list: T[]) => list.filter((_, i) => i % (options.subsample ?? 1) === 0);
  const { images, test } = await benchSplit({ ...dataset, train: pick(dataset.train), test: pick(dataset.test) }, algorithmId);
  const params: Record<string, unknown> = { ...(options.params ?? {}) };
  if (options.size) params.working_size = options.size;
  log(`${algorithmId}: training on ${images.length} images`);
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  let lastShown = 0;
  const model: TrainedModel = await trainModel(algorithmId, images, params, {
    calibration: options.calibration,
    threads: options.threads,
    onProgress: (f, stage) => {
      if (performance.now() - lastShown > 2000) { lastShown = performance.now(); log(`${algorithmId}: ${(f * 100).toFixed(0)}% ${stage}`); }
    },
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const trainPeakRssMb = peakRssMb();
  const trainCpuSeconds = cpuSeconds() - cpuStarted;
  const modelBytes = serializeModel(model).length;
  const scores: number[] = [];
  const defective: boolean[] = [];
  const maps: FloatMap[] = [];
  const masks: FloatMap[] = [];
  let decodeMs = 0, inferMs = 0;
  const workingSize = modelWorkingSize(model);
  const hasMasks = test.some((t) => t.maskPath);
  log(`${algorithmId}: scoring ${test.length} test images`);
  for (const image of test) {
    const bytes = await readFile(image.path);
    const t0 = performance.now();
    const decoded = await decodeForModel(bytes, workingSize);
    const t1 = performance.now();
    const prediction = predictRaster(model, decoded.raster, decoded.info);
    const t2 = performance.now();
    decodeMs += t1 - t0;
    inferMs += t2 - t1;
    scores.push(prediction.score);
    defective.push(image.defect !== null);
    // Pixel metrics on images with a mask and on good images (all-zero masks); defects without masks are skipped.
    if (hasMasks && (image.defect === null || image.maskPath)) {
      const size = fitWithin(decoded.raster.width, decoded.raster.height, PIXEL_METRICS_SIDE);
      const map = resizeMap(prediction.calibratedMap, size.width, size.height);
      maps.push(map);
      masks.push(image.maskPath ? await loadMask(image.maskPath, map.width, map.height)
        : { width: map.width, height: map.height, data: new Float32Array(map.width * map.height) });
    }
  }
  const scoringPeakRssMb = peakRssMb();
  const allCpuSeconds = cpuSeconds() - cpuStarted;
  const confusion = confusionAt(scores, defective, model.threshold);
  return {
    algorithm: algorithmId,
    dataset: dataset.name,
    image_auroc: auroc(scores, defective),
    image_auroc_by_defect: aurocByDefect(scores, test.map((t) => t.defect)),
    pixel_auroc: maps.length ? pixelAuroc(maps, masks) : null,
    aupro: maps.length ? aupro(maps, masks) : null,
    f1: confusion.f1,
    threshold: model.threshold,
    train_seconds: trainSeconds,
    train_cpu_seconds: trainCpuSeconds,
    cpu_seconds: allCpuSeconds,
    decode_ms_per_image: decodeMs / test.length,
    infer_ms_per_image: inferMs / test.length,
    infer_decode_ratio: inferMs / Math.max(decodeMs, 1e-9),
    peak_rss_mb: scoringPeakRssMb,
    train_peak_rss_mb: trainPeakRssMb,
    model_mb: modelBytes / 1e6,
    test_images: test.length,
    auto_tuned: Object.fromEntries(Object.entries(model.autoTuned).map(([name, tuned]) => [name, tuned.chosen])),
  };
}
