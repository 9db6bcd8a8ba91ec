/**
 * The sample project: which generated images are uploaded for training (good ones, and a few defective ones with
 * their defects boxed, as a person would annotate them) and which are held back to be predicted, how they are
 * labelled, what the model is trained on and named, and what counts as found. Shared by `kensa demo` (through
 * the SDK) and the server's `POST /v1/samples` (through its services), so both make the same project from the
 * same seed and count it the same way; each keeps only its transport and its progress display.
 */
import type { Box } from '../algorithms/types.ts';
import { encodeSampleImage, generateSampleSet, type SampleCounts, type SampleImage, type SampleProduct } from './index.ts';

/** Enough good images for the default algorithm, two defective per kind to set the threshold, the rest held back. */
export const SAMPLE_PROJECT_COUNTS: SampleCounts = { trainGood: 24, testGood: 6, testPerDefect: 5 };
const DEFECTIVE_PER_KIND_FOR_TRAINING = 2;

export interface SampleProjectImage {
  /** Item id when uploaded: carries the seed, so two seeds never share an item. */
  itemId: string;
  fileName: string;
  /** Defect kind, or null for a good image. */
  defect: string | null;
  sample: SampleImage;
}

export interface SampleProjectPlan {
  trainGood: SampleProjectImage[];
  trainDefective: SampleProjectImage[];
  heldBack: SampleProjectImage[];
  /** The photos' longer side: the working size at which the thinnest defects still show. */
  photoSide: number;
}

export function planSampleProject(options: { product: SampleProduct; seed: number; counts?: Partial<SampleCounts> }): SampleProjectPlan {
  const counts: SampleCounts = { ...SAMPLE_PROJECT_COUNTS, ...options.counts };
  const plan: SampleProjectPlan = { trainGood: [], trainDefective: [], heldBack: [], photoSide: 0 };
  const seenPerDefect = new Map<string, number>();
  // One defective image of each kind always stays held back, so the prediction shows every kind.
  const defectiveForTraining = Math.min(DEFECTIVE_PER_KIND_FOR_TRAINING, counts.testPerDefect - 1);
  for (const sample of generateSampleSet({ seed: options.seed, product: options.product, counts })) {
    const itemId = `demo${options.seed}-${sample.name}`;
    const entry: SampleProjectImage = { itemId, fileName: `${itemId}.png`, defect: sample.defect, sample };
    plan.photoSide = Math.max(plan.photoSide, sample.width, sample.height);
    if (sample.split === 'train') plan.trainGood.push(entry);
    else if (sample.defect === null) plan.heldBack.push(entry);
    else {
      const seen = seenPerDefect.get(sample.defect) ?? 0;
      seenPerDefect.set(sample.defect, seen + 1);
      (seen < defectiveForTraining ? plan.trainDefective : plan.heldBack).push(entry);
    }
  }
  return plan;
}

/** Files per upload request: small enough for quick progress, large enough not to be chatty. */
export const SAMPLE_UPLOAD_BATCH = 10;

/** One group of the sample project's uploads, in the order they are made. */
export interface SampleUpload {
  group: 'trainGood' | 'trainDefective' | 'heldBack';
  images: SampleProjectImage[];
  /** Uploaded for training (labelled), or held back to be predicted. */
  training: boolean;
  /** The label of training images; null for held-back ones (the model decides). */
  good: boolean | null;
  /** Box each image's defects once uploaded (`sampleAnnotations`), so the model learns where they are. */
  boxDefects: boolean;
}

/** Good training images, then the defective ones (boxed), then the held-back ones. */
export function sampleUploads(plan: SampleProjectPlan): SampleUpload[] {
  return [
    { group: 'trainGood', images: plan.trainGood, training: true, good: true, boxDefects: false },
    { group: 'trainDefective', images: plan.trainDefective, training: true, good: false, boxDefects: true },
    { group: 'heldBack', images: plan.heldBack, training: false, good: null, boxDefects: false },
  ];
}

/** The images of one upload group in requests of SAMPLE_UPLOAD_BATCH. */
export function sampleUploadBatches(images: SampleProjectImage[]): SampleProjectImage[][] {
  const batches: SampleProjectImage[][] = [];
  for (let start = 0; start < images.length; start += SAMPLE_UPLOAD_BATCH) batches.push(images.slice(start, start + SAMPLE_UPLOAD_BATCH));
  return batches;
}

/** Each image's file bytes (PNG) by item id, encoded one after another; `onEncoded` sees the count so far. */
export async function encodeSampleProject(plan: SampleProjectPlan, onEncoded?: (done: number, total: number) => Promise<void> | void): Promise<Map<string, Buffer>> {
  const all = [...plan.trainGood, ...plan.trainDefective, ...plan.heldBack];
  const encoded = new Map<string, Buffer>();
  for (const image of all) {
    encoded.set(image.itemId, await encodeSampleImage(image.sample));
    await onEncoded?.(encoded.size, all.length);
  }
  return encoded;
}

/** An image's defects as annotation boxes, noted with the defect kind (none for a good image). */
export function sampleAnnotations(image: SampleProjectImage): (Box & { notes: string | null })[] {
  return image.sample.boxes.map((box) => ({ ...box, notes: image.defect }));
}

/** The items the model trains on: every labelled one. */
export function sampleTrainingItemIds(plan: SampleProjectPlan): string[] {
  return [...plan.trainGood, ...plan.trainDefective].map((image) => image.itemId);
}

/** `demo-metal-2026-12-03-10-41-35`: the product and when the project started (UTC, to the second). */
export function sampleModelName(product: SampleProduct, startedAt: Date): string {
  return `demo-${product}-${startedAt.toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
}

/** The held-back images counted against the truth (named as `kensa demo --json` and the server's answer show them). */
export interface SampleProjectResults {
  defective: number;
  /** Defective images the model judged not good. */
  defective_found: number;
  good: number;
  /** Good images the model judged good. */
  good_passed: number;
}

/** Counts the held-back images by the model's verdict, item id → good (true), not good (false), none (null). */
export function countSampleResults(plan: SampleProjectPlan, verdicts: ReadonlyMap<string, boolean | null>): SampleProjectResults {
  const defective = plan.heldBack.filter((image) => image.defect !== null);
  const good = plan.heldBack.filter((image) => image.defect === null);
  return {
    defective: defective.length,
    defective_found: defective.filter((image) => verdicts.get(image.itemId) === false).length,
    good: good.length,
    good_passed: good.filter((image) => verdicts.get(image.itemId) === true).length,
  };
}

/** Where a running sample project stands: images encoded, or a batch of an upload group sent. */
export type SampleProjectProgress =
  | { step: 'images'; done: number; total: number }
  /** `groupDone` 0 opens a group; equal to its image count, the group is complete. `done` and `total` count every upload. */
  | { step: 'upload'; upload: SampleUpload; groupDone: number; done: number; total: number };

/**
 * What running the sample project needs from a server, by transport: `kensa demo` implements it with the SDK, the
 * server's `POST /v1/samples` with its own services. Waiting for training and predictions is theirs too (the SDK
 * and the server poll differently); everything else — what is uploaded in which order and batches, what is boxed,
 * what the model trains on and at which size, what is predicted and how it is counted — is `runSampleProject`'s.
 */
export interface SampleProjectSteps {
  /** Uploads one batch of a group, each image with its file bytes (PNG). */
  upload(batch: { image: SampleProjectImage; bytes: Buffer }[], upload: SampleUpload): Promise<void>;
  /** Replaces the boxes of an uploaded item's image (each item holds one). */
  annotate(itemId: string, boxes: (Box & { notes: string | null })[]): Promise<void>;
  /** Trains a model on these items at this working size; answers its id once it is active (throws if training fails). */
  train(request: { itemIds: string[]; workingSize: number }): Promise<number>;
  /** Predicts the items with the model; answers each item's verdict (true good, false not good, null none) once all are predicted. */
  predict(itemIds: string[], modelId: number): Promise<ReadonlyMap<string, boolean | null>>;
  onProgress?(progress: SampleProjectProgress): Promise<void> | void;
}

/** Runs a planned sample project through a transport: images, uploads (defects boxed), training, prediction, counts. */
export async function runSampleProject(plan: SampleProjectPlan, steps: SampleProjectSteps): Promise<{ modelId: number; verdicts: ReadonlyMap<string, boolean | null>; results: SampleProjectResults }> {
  const encoded = await encodeSampleProject(plan, (done, total) => steps.onProgress?.({ step: 'images', done, total }));
  let done = 0;
  for (const upload of sampleUploads(plan)) {
    let groupDone = 0;
    await steps.onProgress?.({ step: 'upload', upload, groupDone, done, total: encoded.size });
    for (const images of sampleUploadBatches(upload.images)) {
      await steps.upload(images.map((image) => ({ image, bytes: encoded.get(image.itemId)! })), upload);
      groupDone += images.length;
      done += images.length;
      await steps.onProgress?.({ step: 'upload', upload, groupDone, done, total: encoded.size });
    }
    if (upload.boxDefects) for (const image of upload.images) await steps.annotate(image.itemId, sampleAnnotations(image));
  }
  // At the photos' own size: reduced to the default working size, the thinnest scratches fade into the texture.
  const modelId = await steps.train({ itemIds: sampleTrainingItemIds(plan), workingSize: plan.photoSide });
  const verdicts = await steps.predict(plan.heldBack.map((image) => image.itemId), modelId);
  return { modelId, verdicts, results: countSampleResults(plan, verdicts) };
}
