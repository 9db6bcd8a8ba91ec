/**
 * `kensa demo`: a sample project in one command. Procedural images (engine `samples/`) are uploaded — good
 * ones and a few defective ones with their defects boxed for training, the rest held back — the default
 * algorithm is trained on them, and the held-back images are predicted, so that the web UI shows real
 * results. `--export DIR` only writes the images as an MVTec-layout dataset for `kensa bench`.
 */
import {
  DEFAULT_ALGORITHM_ID, exportSampleDataset, planSampleProject, runSampleProject, sampleDefects, sampleModelName, SAMPLE_PRODUCTS,
  SAMPLE_PROJECT_COUNTS, type SampleCounts, type SampleFormat, type SampleProduct, type SampleUpload,
} from '@kensa/engine';
import { ModelFailedError, type Model, type ParameterValues } from '@kensa/sdk';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { createProgress, parseSeconds, printJson, printTable, type Progress } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';
import { verdictOf, type ItemVerdict } from '../verdict.ts';
import { parseParams } from './train.ts';

const PRODUCT_NAMES: Record<SampleProduct, string> = { metal: 'brushed metal plates', wood: 'wood blocks' };

const UPLOAD_LABELS: Record<SampleUpload['group'], string> = {
  trainGood: 'Uploading good training images',
  trainDefective: 'Uploading defective training images',
  heldBack: 'Uploading held-back images',
};

function parseCount(value: string | boolean | undefined, name: string, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new UsageError(`--${name} must be a whole number ≥ ${least}, not ${value}`);
  return n;
}

function parseProduct(value: string | boolean | undefined): SampleProduct {
  if (value === undefined) return 'metal';
  if (typeof value !== 'string' || !SAMPLE_PRODUCTS.includes(value as SampleProduct)) {
    throw new UsageError(`--product must be one of ${SAMPLE_PRODUCTS.join(', ')}, not ${value}`);
  }
  return value as SampleProduct;
}

export interface DemoItemResult {
  item_id: string;
  expected: string;
  verdict: ItemVerdict['verdict'];
  score: number | null;
  detected_objects: number | null;
}

async function runAgainstServer(
  flags: Record<string, string | boolean>, product: SampleProduct, seed: number, counts: SampleCounts, params: ParameterValues,
): Promise<number> {
  const json = flags.json === true;
  const say = (line: string) => { if (!json) process.stderr.write(`${line}\n`); };
  const algorithm = typeof flags.algorithm === 'string' && flags.algorithm ? flags.algorithm : DEFAULT_ALGORITHM_ID;
  const timeoutMs = parseSeconds(flags.timeout, 600);
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
  const { sdk, remember } = await connect(flags);
  await sdk.authorize();
  await remember();

  say(`Kensa demo: ${PRODUCT_NAMES[product]} (seed ${seed})`);
  const plan = planSampleProject({ product, seed, counts });
  // What the steps learn along the way, for the report at the end.
  const seen: { uploading?: Progress; model?: Model; verdicts: ItemVerdict[] } = { verdicts: [] };
  // The project's recipe is the engine's (the same as the server's sample project); this command brings the SDK and the display.
  const { results } = await runSampleProject(plan, {
    onProgress: (progress) => {
      if (progress.step === 'images') {
        if (progress.done === progress.total) say(`  made ${progress.total} images in ${seconds()} s`);
        return;
      }
      const groupTotal = progress.upload.images.length;
      if (progress.groupDone === 0) seen.uploading = createProgress(UPLOAD_LABELS[progress.upload.group], { json });
      seen.uploading!.update(progress.groupDone, groupTotal);
      if (progress.groupDone === groupTotal) seen.uploading!.finish();
    },
    upload: async (batch, upload) => {
      const files = batch.map(({ image, bytes }) => ({ name: image.fileName, data: bytes, type: 'image/png' }));
      await sdk.upload(files, upload.good ?? undefined);
    },
    annotate: async (itemId, boxes) => {
      const image = (await sdk.getItem(itemId)).images[0];
      if (!image) throw new Error(`Item ${itemId} has no image after its upload`);
      await sdk.setAnnotations(boxes, image.image_id);
    },
    train: async ({ itemIds, workingSize }) => {
      say(`  uploaded ${plan.trainGood.length} good and ${plan.trainDefective.length} defective training images (defects boxed), ${plan.heldBack.length} held back`);
      const values: ParameterValues = { working_size: workingSize, ...params };
      let trained = await sdk.train(algorithm, sampleModelName(product, new Date()), values, itemIds);
      const training = createProgress(`Training ${algorithm} model ${trained.model_id}`, { json });
      try {
        trained = await sdk.waitForModel(trained.model_id, {
          timeoutMs, intervalMs: 500, onProgress: (m) => training.update(Math.round((m.progress ?? 0) * 100), 100, m.status),
        });
      } catch (error) {
        training.finish();
        if (error instanceof ModelFailedError) throw new Error(`The demo model failed to train: ${error.message}`);
        throw error;
      }
      training.finish();
      say(`  trained ${algorithm} model ${trained.model_id} "${trained.name}" at working_size ${values.working_size} (${seconds()} s so far)`);
      seen.model = trained;
      return Number(trained.model_id);
    },
    predict: async (itemIds, modelId) => {
      const served = await sdk.serve(itemIds, modelId);
      const predicting = createProgress('Predicting held-back images', { json });
      const deadline = Date.now() + timeoutMs;
      // An item predicted by an earlier demo run is already `done`: wait until the newest verdict is this model's.
      for (;;) {
        const details = await sdk.waitForItems(served.item_ids, {
          timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 500, onProgress: (done, total) => predicting.update(done, total),
        });
        seen.verdicts = details.map(verdictOf);
        if (seen.verdicts.every((v) => String(v.model_id) === String(modelId)) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      predicting.finish();
      return new Map(seen.verdicts.map((v) => [v.item_id, v.verdict === null ? null : v.verdict === 'OK']));
    },
  });
  const model = seen.model!;
  const verdicts = seen.verdicts;

  const truth = new Map(plan.heldBack.map((image) => [image.itemId, image.defect ?? 'good']));
  const items: DemoItemResult[] = verdicts.map((v) => ({
    item_id: v.item_id, expected: truth.get(v.item_id) ?? '?', verdict: v.verdict, score: v.score, detected_objects: v.detected_objects,
  }));
  const summary = { ...results, seconds: Number(seconds()) };
  const defective = items.filter((i) => i.expected !== 'good');
  const base = sdk.apiUrl.replace(/\/api$/, '');
  const example = defective.find((i) => i.verdict === 'NG') ?? defective[0] ?? items[0];
  const links = {
    dashboard: `${base}/#/dashboard`,
    items: `${base}/#/items?tab=predict`,
    example_item: example ? `${base}/#/item/${encodeURIComponent(example.item_id)}` : null,
    model: `${base}/#/models?model=${encodeURIComponent(String(model.model_id))}`,
  };
  if (json) {
    printJson({ product, seed, algorithm, model, items, summary, links });
    return 0;
  }
  printTable([
    ['ITEM', 'EXPECTED', 'VERDICT', 'DEFECTS', 'SCORE'],
    ...items.map((i) => [i.item_id, i.expected, i.verdict, i.detected_objects, i.score === null ? null : i.score.toFixed(3)]),
  ]);
  console.log(`Found ${summary.defective_found} of ${summary.defective} defective images; ${summary.good_passed} of ${summary.good} good images passed (model ${model.model_id}, ${summary.seconds} s).`);
  console.log('');
  console.log('Where to look:');
  console.log(`  dashboard     ${links.dashboard}`);
  console.log(`  predictions   ${links.items}`);
  if (example && links.example_item) console.log(`  one defect    ${links.example_item}   (or: kensa item ${example.item_id} --open --out .)`);
  console.log(`  the model     ${links.model}   (or: kensa models)`);
  console.log(`Your own images next: kensa upload DIR --good, kensa train --algorithm ${algorithm} --wait, kensa predict DIR --wait`);
  return 0;
}

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'Sample project: upload generated images, train, predict a held-back set (--export: write them as a dataset)',
  usage: 'kensa demo [--product metal|wood] [--seed N] [--algorithm ID] [--param name=value …] [--timeout SECONDS] [--json]\n'
    + '       kensa demo --export DIR [--product metal|wood] [--seed N] [--train-good N] [--test-good N] [--test-per-defect N] [--format png|jpeg]',
  examples: [
    'kensa demo                                   # against the server of `kensa login`; about a minute',
    'kensa demo --product wood --url http://127.0.0.1:8080/api --client-id demo --client-secret demo-secret',
    'kensa demo --export ./samples/metal && kensa bench ./samples/metal --algorithm PM',
  ],
  async run(argv) {
    const { positional, flags, repeated } = parseFlags(argv, {
      string: [...CONNECTION_FLAGS, 'product', 'seed', 'algorithm', 'timeout', 'export', 'format', 'train-good', 'test-good', 'test-per-defect'],
      boolean: ['json'],
      repeat: ['param'],
    });
    if (positional.length) throw new UsageError(`demo takes no arguments (got ${positional.join(' ')}); did you mean --export DIR?`);
    const product = parseProduct(flags.product);
    const seed = parseCount(flags.seed, 'seed', 1, 0);
    if (typeof flags.export === 'string') {
      const defaults = { trainGood: 40, testGood: 20, testPerDefect: 15 };
      const counts: SampleCounts = {
        trainGood: parseCount(flags['train-good'], 'train-good', defaults.trainGood, 1),
        testGood: parseCount(flags['test-good'], 'test-good', defaults.testGood, 0),
        testPerDefect: parseCount(flags['test-per-defect'], 'test-per-defect', defaults.testPerDefect, 0),
      };
      const format = (flags.format ?? 'png') as SampleFormat;
      if (format !== 'png' && format !== 'jpeg') throw new UsageError(`--format must be png or jpeg, not ${flags.format}`);
      const exported = await exportSampleDataset(flags.export, { seed, product, counts, format });
      if (flags.json) printJson({ dir: exported.dir, product, seed, images: exported.images, masks: exported.masks, defects: sampleDefects(product) });
      else {
        console.log(`Wrote ${exported.images} ${PRODUCT_NAMES[product]} images and ${exported.masks} defect masks to ${exported.dir} (MVTec layout: train/good, test/good, test/{${sampleDefects(product).join(',')}}, ground_truth)`);
        console.log(`  kensa bench ${exported.dir} --algorithm PM`);
      }
      return 0;
    }
    for (const name of ['format', 'test-good', 'test-per-defect']) {
      if (flags[name] !== undefined) throw new UsageError(`--${name} applies to --export only`);
    }
    const counts = { ...SAMPLE_PROJECT_COUNTS, trainGood: parseCount(flags['train-good'], 'train-good', SAMPLE_PROJECT_COUNTS.trainGood, 4) };
    return runAgainstServer(flags, product, seed, counts, parseParams(repeated.param ?? []));
  },
};
