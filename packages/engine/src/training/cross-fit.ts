import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { checkAborted, TrainingAbortedError, type AlgorithmDefinition, type ModelState, type StateValue, type TrainingSample } from '../algorithms/types.ts';
import type { HeldOutMap } from '../calibration/calibrate.ts';
import { synthesizeDefectWithin } from '../calibration/synthetic.ts';
import { foldsByImage } from '../image/tiles.ts';
import { expandMap, resizeMap, type CompactMap, type FloatMap, type Raster } from '../image/raster.ts';
import { Random } from '../kernels/random.ts';
import type { ParamValues } from '../params/schema.ts';
import { fromPortable, toPortable, type PortableMap } from './portable-maps.ts';
import { startTypeScriptWorker } from './typescript-worker.ts';

/**
 * Two-fold cross-fitting: train on one half, map the other, and the other way round, so that every labelled image (up
 * to MAX_HELD_OUT_OK_MAPS OK and MAX_HELD_OUT_MAPS NG images) gets a map from a model that never saw it. With two
 * threads, each half is a worker's: it trains the model of the other half's maps on its own images, then maps its own
 * images with the model the other worker trained (`crossFitOnThreads`). The same models and maps either way.
 */

/**
 * The held-out maps of cross-fitting, as the algorithm made them (`heldOutMap` reads them at their raster's size), or
 * as they cross to another thread (`PortableSizedMap`).
 */
export type CrossFit = CrossFitMaps<SizedMap>;

export interface CrossFitMaps<M> {
  okMaps: M[];
  ngMaps: M[];
  syntheticMaps: M[];
  /** The training image of each map of okMaps and ngMaps, in their order. */
  okSources: (number | null)[];
  ngSources: (number | null)[];
}

/**
 * Synthetic defects made in cross-fitting at most: a hundred measure an AUROC well enough, and each costs a map (memory)
 * and an inference (time). Below that many OK images, every held-out OK image gets one, as before.
 */
const MAX_SYNTHETIC_DEFECTS = 100;

/**
 * Held-out images of each label that cross-fitting maps at most (a seeded draw beyond): each map is kept until the
 * calibration is fitted (in full 0.25 MB at 256×256; PS's compact map 16 KB, see heldOutMap), and 500 of a label place
 * a quantile or an AUROC well. Below that, every held-out image is mapped, as before.
 */
const MAX_HELD_OUT_MAPS = 500;

/**
 * OK images that cross-fitting maps at most (a seeded draw beyond): they give the calibration its pixel quantile and the
 * threshold its 90th percentile of image scores, which 200 place well; each map costs an inference, and the 400 of
 * deeppcb (512 px) took 40 of its 105 processor seconds of training. NG images keep MAX_HELD_OUT_MAPS: the best-F1
 * threshold needs every one it can get.
 */
export const MAX_HELD_OUT_OK_MAPS = 200;

/**
 * Samples below which cross-fitting stays on the calling thread unless told otherwise: starting a worker costs one to
 * two processor seconds (loading the engine), more than a second thread saves on few images (PS, 40 aliens images:
 * 1.09× the wall time of one thread; 100 of bsdata: 0.87×; `bench/cross-fit-threads.ts`).
 */
const MIN_SAMPLES_FOR_THREADS = 80;

/**
 * The workers' young generation (MB; V8's default is 16): their garbage is mostly the typed arrays of one image at a
 * time, and a smaller nursery keeps less of it between collections (deeppcb 400, glibc's default allocator: peak resident
 * set 744 → 680 MB).
 */
const WORKER_YOUNG_GENERATION_MB = 2;

/** Threads cross-fitting uses by default: two when the machine has two cores or more. */
export function defaultCrossFitThreads(): number {
  return Math.min(2, availableParallelism());
}

/**
 * Whether cross-fitting this many samples runs on worker threads: when asked for two threads or more, or by default
 * on a machine with two cores and for MIN_SAMPLES_FOR_THREADS samples or more.
 */
export function crossFitUsesThreads(samples: number, threads?: number): boolean {
  if (threads !== undefined) return threads >= 2;
  return defaultCrossFitThreads() >= 2 && samples >= MIN_SAMPLES_FOR_THREADS;
}

/** Of each label, the samples cross-fitting maps: all of them, or a seeded draw when there are more than its bound. */
function mappedHeldOut(samples: TrainingSample[], seed: number): Set<TrainingSample> | null {
  const byLabel = [true, false].map((label) => ({ list: samples.filter((s) => s.good === label), bound: label ? MAX_HELD_OUT_OK_MAPS : MAX_HELD_OUT_MAPS }));
  if (byLabel.every(({ list, bound }) => list.length <= bound)) return null;
  const random = new Random(seed + 37);
  return new Set(byLabel.flatMap(({ list, bound }) => random.shuffle(list).slice(0, bound)));
}

/** A held-out sample a fold's model maps, and the seed of the synthetic defect drawn into it after (or null: none). */
export interface HeldOutSample {
  sample: TrainingSample;
  defectSeed: number | null;
}

/** Who trains on what and what is mapped, decided before anything trains (so that each half can go to its own thread). */
export interface CrossFitPlan {
  /** The samples each fold's model trains on: all but the fold's held-out ones (unlabelled samples are in both), in order. */
  trainParts: [TrainingSample[], TrainingSample[]];
  /** The samples each fold's model maps, in order. */
  heldOut: [HeldOutSample[], HeldOutSample[]];
  /** Every sample some model of this training maps (`TrainContext.mappedLater`). */
  mappedLater: Set<TrainingSample>;
}

export function planCrossFit(samples: TrainingSample[], seed: number, synthetic: boolean, mappedAfter: TrainingSample[] = []): CrossFitPlan {
  const random = new Random(seed + 17);
  const ok = samples.filter((s) => s.good === true);
  const ng = samples.filter((s) => s.good === false);
  const folds = foldsByImage(samples, random) ?? new Map<TrainingSample, number>();
  if (folds.size === 0) {
    random.shuffle([...ok]).forEach((s, i) => folds.set(s, i % 2));
    random.shuffle([...ng]).forEach((s, i) => folds.set(s, i % 2));
  }
  const mapped = mappedHeldOut(samples, seed);
  // Every `stride`-th mapped OK image (in fold order) gets a synthetic defect, each drawn from a seed of its own, so that
  // either fold's thread draws it alike.
  const stride = Math.ceil(Math.min(ok.length, MAX_HELD_OUT_OK_MAPS) / MAX_SYNTHETIC_DEFECTS);
  let okMapped = 0;
  const heldOutOf = (fold: number): HeldOutSample[] => samples
    .filter((s) => folds.get(s) === fold && (mapped === null || mapped.has(s)))
    .map((sample) => ({ sample, defectSeed: sample.good && synthetic && okMapped++ % stride === 0 ? random.int(2 ** 31) : null }));
  const heldOut: CrossFitPlan['heldOut'] = [heldOutOf(0), heldOutOf(1)];
  return {
    trainParts: [0, 1].map((fold) => samples.filter((s) => folds.get(s) !== fold)) as CrossFitPlan['trainParts'],
    heldOut,
    mappedLater: new Set([...heldOut.flat().map((held) => held.sample), ...mappedAfter]),
  };
}

/** An algorithm's map of a raster, in its compact form when it has one, and the raster's size. */
export interface SizedMap {
  map: FloatMap | CompactMap;
  width: number;
  height: number;
}

/** A held-out sample's map and, when it has one, its synthetic defect's. */
export interface HeldOutMaps {
  own: SizedMap;
  synthetic: SizedMap | null;
}

/**
 * Maps a held-out sample with a fold's model, then the synthetic defect drawn into it: outside the defect's reach, its
 * map is that one's (`AlgorithmDefinition.compactAnomalyMap`'s `altered`).
 */
export async function mapHeldOut(algorithm: AlgorithmDefinition<ModelState>, state: ModelState, held: HeldOutSample, params: ParamValues): Promise<HeldOutMaps> {
  const raster = await held.sample.load();
  const own = sizedMap(algorithm, state, raster, params, held.sample);
  if (held.defectSeed === null) return { own, synthetic: null };
  const defect = synthesizeDefectWithin(raster, new Random(held.defectSeed));
  return { own, synthetic: sizedMap(algorithm, state, defect.raster, params, undefined, { of: held.sample, ...defect.changed }) };
}

function sizedMap(
  algorithm: AlgorithmDefinition<ModelState>, state: ModelState, raster: Raster, params: ParamValues, from?: TrainingSample,
  altered?: Parameters<NonNullable<AlgorithmDefinition['compactAnomalyMap']>>[4],
): SizedMap {
  const map = algorithm.compactAnomalyMap?.(state, raster, params, from, altered) ?? algorithm.anomalyMap(state, raster, params, from);
  return { map, width: raster.width, height: raster.height };
}

/**
 * A held-out map at its raster's size, as the engine's raw map is, held in the algorithm's compact form when it has one
 * (PS: its patch scores) or at the algorithm's own resolution, and made at the raster's size each time calibration reads
 * it. Held in full at 512 × 512, the 400 held-out maps of deeppcb and its 100 synthetic defects took 0.5 GB.
 */
export function heldOutMap({ map, width, height }: SizedMap): HeldOutMap {
  if ('data' in map && map.width === width && map.height === height) return map;
  return { width, height, expand: () => resizeMap(expandMap(map), width, height) };
}

function addMaps(result: CrossFit, held: HeldOutSample, maps: HeldOutMaps): void {
  const { sample } = held;
  (sample.good ? result.okMaps : result.ngMaps).push(maps.own);
  (sample.good ? result.okSources : result.ngSources).push(sample.source ?? null);
  if (maps.synthetic) result.syntheticMaps.push(maps.synthetic);
}

export interface CrossFitOptions {
  signal?: AbortSignal;
  synthetic: boolean;
  seed: number;
  onProgress: (f: number) => void;
  decided?: ModelState;
  /** Samples the final model will map (for the threshold), besides the held-out ones. */
  mappedAfter?: TrainingSample[];
  /** Threads to use (1: the calling thread only); by default two for many samples (`crossFitUsesThreads`). */
  threads?: number;
}

export async function crossFit(
  algorithm: AlgorithmDefinition<ModelState>, samples: TrainingSample[], params: ParamValues, options: CrossFitOptions,
): Promise<CrossFit> {
  const plan = planCrossFit(samples, options.seed, options.synthetic, options.mappedAfter);
  if (crossFitUsesThreads(samples.length, options.threads)) {
    return crossFitOnThreads(algorithm, samples, params, plan, options);
  }
  // Both folds are trained before either maps its held-out images: each held-out image has then been read by the other
  // fold's train, which may have kept what the maps reuse (`from`; PS: the learned filters' planes).
  const states: ModelState[] = [];
  for (const fold of [0, 1]) {
    checkAborted(options.signal);
    states.push(await algorithm.train(plan.trainParts[fold], params, {
      onProgress: (f) => options.onProgress((fold + f) * 0.4), signal: options.signal, decided: options.decided, mappedLater: plan.mappedLater,
    }));
  }
  const result: CrossFit = { okMaps: [], ngMaps: [], syntheticMaps: [], okSources: [], ngSources: [] };
  for (const fold of [0, 1]) {
    for (const held of plan.heldOut[fold]) {
      checkAborted(options.signal);
      addMaps(result, held, await mapHeldOut(algorithm, states[fold], held, params));
    }
    options.onProgress(0.8 + (fold + 1) * 0.1);
  }
  return result;
}

/** A training sample as it crosses to a worker: its raster is read through the calling thread (`load` messages). */
export interface PortableSample {
  index: number;
  good: boolean | null;
  boxes: TrainingSample['boxes'];
  source?: number;
}

/** What the calling thread sends a cross-fitting worker. */
export type ToCrossFitWorker =
  | {
    type: 'start'; algorithmId: string; params: ParamValues; decided?: ModelState;
    /** The samples the worker's model trains on, and which of them some model maps later (`mappedLater`). */
    trainPart: PortableSample[]; mappedLater: number[];
    /** The samples it maps with the other worker's model: each one of trainPart's. */
    heldOut: { index: number; defectSeed: number | null }[];
  }
  | { type: 'raster'; index: number; raster: Raster }
  | { type: 'model'; state: ModelState };

/** What a cross-fitting worker sends back. */
export type FromCrossFitWorker =
  | { type: 'load'; index: number }
  | { type: 'progress'; fraction: number }
  | { type: 'trained'; state: ModelState }
  | { type: 'maps'; position: number; own: PortableSizedMap; synthetic: PortableSizedMap | null }
  | { type: 'done'; kept: StateValue | null }
  | { type: 'error'; name: string; message: string };

export interface PortableSizedMap {
  map: PortableMap;
  width: number;
  height: number;
}

export function toPortableSized({ map, width, height }: SizedMap): PortableSizedMap {
  return { map: toPortable(map), width, height };
}

export function fromPortableSized({ map, width, height }: PortableSizedMap): SizedMap {
  return { map: fromPortable(map), width, height };
}

/**
 * Cross-fitting on two worker threads. Worker h holds the held-out images of fold h: it trains fold (1 − h)'s model (on
 * fold h's images and the unlabelled ones), sends it here to pass on, and maps fold h's images with fold h's model from
 * the other worker, so that what a train keeps for the maps of its own images (PS: their planes) stays on its thread.
 * What the trains kept for later trains (PS: their patch reservoirs) is adopted here, in the order the calling thread
 * would have trained them, for the final model.
 */
async function crossFitOnThreads(
  algorithm: AlgorithmDefinition<ModelState>, samples: TrainingSample[], params: ParamValues, plan: CrossFitPlan, options: CrossFitOptions,
): Promise<CrossFit> {
  checkAborted(options.signal);
  const indexOf = new Map(samples.map((s, i) => [s, i]));
  const portable = (s: TrainingSample): PortableSample => ({ index: indexOf.get(s)!, good: s.good, boxes: s.boxes, source: s.source });
  const workers: Worker[] = [];
  const maps: HeldOutMaps[][] = [[], []];
  const progress = [0, 0];
  const kept: (StateValue | null)[] = [null, null];
  const aborted = new AbortController();
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      options.signal?.addEventListener('abort', () => fail(new TrainingAbortedError()), { once: true, signal: aborted.signal });
      let done = 0;
      for (const half of [0, 1]) {
        const worker = startTypeScriptWorker(new URL('./cross-fit-worker.ts', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
        workers.push(worker);
        // Fold (1 − half)'s model trains on every sample not held out in that fold: fold `half`'s held-out ones among them.
        const trainPart = plan.trainParts[1 - half];
        worker.on('error', fail);
        worker.on('exit', (code) => { if (done < 2) fail(new Error(`a cross-fitting worker stopped (exit code ${code})`)); });
        worker.on('message', (message: FromCrossFitWorker) => {
          switch (message.type) {
            case 'load':
              samples[message.index].load().then(
                (raster) => worker.postMessage(
                  { type: 'raster', index: message.index, raster } satisfies ToCrossFitWorker,
                  samples[message.index].fresh ? [raster.data.buffer as ArrayBuffer] : [],
                ),
                fail,
              );
              break;
            case 'progress':
              progress[half] = message.fraction;
              options.onProgress((progress[0] + progress[1]) / 2);
              break;
            case 'trained':
              workers[1 - half].postMessage({ type: 'model', state: message.state } satisfies ToCrossFitWorker);
              break;
            case 'maps':
              maps[half][message.position] = { own: fromPortableSized(message.own), synthetic: message.synthetic && fromPortableSized(message.synthetic) };
              break;
            case 'done':
              kept[half] = message.kept;
              if (++done === 2) resolve();
              break;
            case 'error':
              fail(Object.assign(new Error(message.message), { name: message.name }));
              break;
          }
        });
        worker.postMessage({
          type: 'start', algorithmId: algorithm.id, params, decided: options.decided,
          trainPart: trainPart.map(portable),
          mappedLater: trainPart.filter((s) => plan.mappedLater.has(s)).map((s) => indexOf.get(s)!),
          heldOut: plan.heldOut[half].map(({ sample, defectSeed }) => ({ index: indexOf.get(sample)!, defectSeed })),
        } satisfies ToCrossFitWorker);
      }
    });
  } finally {
    aborted.abort();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // The calling thread trains fold 0's model (worker 1's) first.
  for (const from of [1, 0]) {
    if (kept[from] !== null && options.decided) algorithm.adoptKeptForLaterTrains?.(options.decided, kept[from]!, (i) => samples[i]);
  }
  const result: CrossFit = { okMaps: [], ngMaps: [], syntheticMaps: [], okSources: [], ngSources: [] };
  for (const fold of [0, 1]) plan.heldOut[fold].forEach((held, i) => addMaps(result, held, maps[fold][i]));
  return result;
}
