/**
 * The sample project: which generated images are uploaded for training (good ones, and a few defective ones with
 * their defects boxed, as a person would annotate them) and which are held back to be predicted. Shared by
 * `kensa demo` and the server's `POST /v1/samples`, so both make the same project from the same seed.
 */
import { generateSampleSet, type SampleCounts, type SampleImage, type SampleProduct } from './index.ts';

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
