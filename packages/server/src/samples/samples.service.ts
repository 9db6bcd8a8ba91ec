/**
 * The sample project of the web UI's "Load sample project" button: the same plan as `kensa demo` (engine
 * `samples/project.ts`) run inside the server as a background job — images uploaded to the target "Kensa demo",
 * defects of the defective training images boxed, the default algorithm trained, the held-back images predicted.
 * Training and prediction go through the job queue like any other; this job only drives them and reports
 * progress. Its record is kept in the database (any API server reports it); a run whose server stopped is
 * reported failed once its record has not moved for a while.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import {
  ALGORITHMS, countSampleResults, DEFAULT_ALGORITHM_ID, encodeSampleProject, planSampleProject, sampleAnnotations, sampleModelName,
  sampleTrainingItemIds, sampleUploadBatches, sampleUploads, type SampleProduct, type SampleProjectResults,
} from '@kensa/engine';
import type { RunningInstallation } from '../context.ts';
import { sql } from '../store/database.ts';
import type { Language } from '../i18n/index.ts';
import type { UrlBuilder } from '../services/items.service.ts';

export const SAMPLE_TARGET_NAME = 'Kensa demo';
const POLL_MS = 300;

export type SampleStep = 'images' | 'upload' | 'train' | 'predict' | 'done';

export interface SampleJob {
  job_id: string;
  status: 'running' | 'done' | 'failed';
  step: SampleStep;
  /** 0…1 over the whole job. */
  progress: number;
  product: SampleProduct;
  seed: number;
  algorithm_id: string;
  target_id: number | null;
  model_id: number | null;
  /** The held-back items, predicted at the end. */
  item_ids: string[];
  results: SampleProjectResults | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface SampleRequest {
  product?: SampleProduct;
  seed?: number;
  algorithm_id?: string;
  /** Default: the photos' own size (thin scratches fade when reduced). Tests make it small to be quick. */
  working_size?: number;
}

/** Share of the job's progress each step ends at. */
const STEP_END: Record<Exclude<SampleStep, 'done'>, number> = { images: 0.1, upload: 0.25, train: 0.8, predict: 1 };
const STEP_START: Record<Exclude<SampleStep, 'done'>, number> = { images: 0, upload: 0.1, train: 0.25, predict: 0.8 };

/** Image URLs are not needed to drive the job (only ids and verdicts are read). */
const NO_URLS: UrlBuilder = { image: () => '', result: () => '' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running sample project whose record has not moved for this long lost its server. */
const ABANDONED_AFTER_MS = 120_000;

export class SamplesService {
  private stopped = false;
  /** When each running job of this process was last written (progress is written at most every half second). */
  private readonly lastSaved = new Map<string, number>();

  constructor(private readonly kensa: RunningInstallation) {}

  /** Starts the sample project, or returns the client's job still running (one at a time per client). */
  async start(clientId: string, request: SampleRequest, language: Language): Promise<SampleJob> {
    await this.kensa.licenses.requireActive(clientId);
    const running = (await this.jobsOf(clientId)).find((j) => j.status === 'running');
    if (running) return this.present(running);
    const algorithmId = request.algorithm_id ?? DEFAULT_ALGORITHM_ID;
    const job: SampleJob & { client_id: string } = {
      client_id: clientId, job_id: randomUUID(), status: 'running', step: 'images', progress: 0,
      product: request.product ?? 'metal', seed: request.seed ?? 1, algorithm_id: algorithmId,
      target_id: null, model_id: null, item_ids: [], results: null, error: null, started_at: new Date().toISOString(), finished_at: null,
    };
    await this.save(job, true);
    void this.run(job, request, language).then(
      () => { job.status = 'done'; job.step = 'done'; job.progress = 1; },
      (error: unknown) => { job.status = 'failed'; job.error = error instanceof Error ? error.message : String(error); },
    ).finally(() => {
      job.finished_at = new Date().toISOString();
      this.lastSaved.delete(job.job_id);
      return this.save(job, true).catch(() => { /* the database is closing: the record ends as abandoned */ });
    });
    return this.present(job);
  }

  async get(clientId: string, jobId: string): Promise<SampleJob | null> {
    const row = await this.kensa.db.get<{ state_json: string; updated_at: number }>(sql`SELECT state_json, updated_at FROM sample_projects
      WHERE job_id = ${jobId} AND client_id = ${clientId}`);
    return row ? this.present(this.restore(row)) : null;
  }

  /** The client's jobs, newest first. */
  async list(clientId: string): Promise<SampleJob[]> {
    return (await this.jobsOf(clientId)).map((j) => this.present(j));
  }

  /** Running jobs stop at their next step (the server is closing). */
  stop(): void {
    this.stopped = true;
  }

  private async jobsOf(clientId: string): Promise<(SampleJob & { client_id: string })[]> {
    const rows = await this.kensa.db.all<{ state_json: string; updated_at: number }>(sql`SELECT state_json, updated_at FROM sample_projects
      WHERE client_id = ${clientId}`);
    return rows.map((row) => this.restore(row)).sort((a, b) => b.started_at.localeCompare(a.started_at));
  }

  private restore(row: { state_json: string; updated_at: number }): SampleJob & { client_id: string } {
    const job = JSON.parse(row.state_json) as SampleJob & { client_id: string };
    if (job.status === 'running' && Date.now() - row.updated_at > ABANDONED_AFTER_MS) {
      return { ...job, status: 'failed', error: 'The server running the sample project stopped before it finished' };
    }
    return job;
  }

  private async save(job: SampleJob & { client_id: string }, always = false): Promise<void> {
    const now = Date.now();
    if (!always && now - (this.lastSaved.get(job.job_id) ?? 0) < 500) return;
    this.lastSaved.set(job.job_id, now);
    const state = JSON.stringify(job);
    await this.kensa.db.run(sql`INSERT INTO sample_projects (job_id, client_id, state_json, updated_at) VALUES (${job.job_id}, ${job.client_id},
      ${state}, ${now}) ON CONFLICT (job_id) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at`);
  }

  private present(job: SampleJob & { client_id: string }): SampleJob {
    const { client_id: _client, ...rest } = job;
    return { ...rest, item_ids: [...rest.item_ids], results: rest.results && { ...rest.results } };
  }

  private async advance(job: SampleJob, step: Exclude<SampleStep, 'done'>, fraction: number): Promise<void> {
    if (this.stopped) throw new Error('The server is stopping');
    const stepChanged = job.step !== step;
    job.step = step;
    job.progress = Number((STEP_START[step] + (STEP_END[step] - STEP_START[step]) * Math.min(1, Math.max(0, fraction))).toFixed(3));
    await this.save(job as SampleJob & { client_id: string }, stepChanged);
  }

  private async run(job: SampleJob, request: SampleRequest, language: Language): Promise<void> {
    const { items, models, training, prediction, targets, files } = this.kensa;
    const clientId = (job as SampleJob & { client_id: string }).client_id;
    const algorithm = ALGORITHMS.find((a) => a.id === job.algorithm_id);
    if (!algorithm) throw new Error(`Unknown algorithm ${job.algorithm_id}`);

    let target;
    try {
      target = await targets.resolve(clientId, SAMPLE_TARGET_NAME);
    } catch {
      await targets.create(clientId, { name: SAMPLE_TARGET_NAME }, language);
      target = await targets.resolve(clientId, SAMPLE_TARGET_NAME);
    }
    job.target_id = target.target_id;

    const plan = planSampleProject({ product: job.product, seed: job.seed });
    const encoded = await encodeSampleProject(plan, (done, total) => this.advance(job, 'images', done / total));

    let uploaded = 0;
    for (const upload of sampleUploads(plan)) {
      for (const images of sampleUploadBatches(upload.images)) {
        const batch = await Promise.all(images.map(async (image) => {
          const temporaryPath = files.temporaryPath();
          await writeFile(temporaryPath, encoded.get(image.itemId)!);
          return { fileName: image.fileName, temporaryPath };
        }));
        await items.upload(clientId, batch, { training: upload.training, good: upload.good, itemId: null, targetId: target.target_id });
        uploaded += batch.length;
        await this.advance(job, 'upload', uploaded / encoded.size);
      }
      if (!upload.boxDefects) continue;
      for (const image of upload.images) {
        const imageId = (await items.detail(clientId, image.itemId, NO_URLS, { annotations: false, assessments: false }, language)).images[0].image_id;
        await items.annotate(clientId, imageId, sampleAnnotations(image));
      }
    }
    job.item_ids = plan.heldBack.map((i) => i.itemId);

    const workingSize = algorithm.parameters.find((p) => p.name === 'working_size');
    const model = await training.train(clientId, {
      algorithm_id: algorithm.id,
      name: sampleModelName(job.product, new Date(job.started_at)),
      override_params: workingSize ? [{ algorithm_parameter_id: workingSize.id, value: request.working_size ?? plan.photoSide }] : [],
      item_ids: sampleTrainingItemIds(plan),
      target: target.target_id,
    }, language);
    job.model_id = model.model_id;
    for (;;) {
      const current = await models.get(clientId, String(model.model_id), language);
      if (current.status === 'failed') throw new Error(`Training failed: ${current.status_text}`);
      if (current.status === 'active') break;
      await this.advance(job, 'train', Number(current.progress ?? 0));
      await sleep(POLL_MS);
    }

    await prediction.serve(clientId, { item_ids: job.item_ids, model_id: model.model_id });
    for (;;) {
      const details = await Promise.all(job.item_ids.map((id) => items.detail(clientId, id, NO_URLS, { annotations: false, assessments: false }, language)));
      const done = details.filter((d) => d.status === 'done');
      await this.advance(job, 'predict', done.length / details.length);
      if (done.length === details.length) {
        job.results = countSampleResults(plan, new Map(details.map((d) => [d.item_id, d.computed_assessment.good])));
        return;
      }
      await sleep(POLL_MS);
    }
  }
}
