import { APIError, ModelFailedError, WaitTimeoutError } from './errors.ts';
import { toNamedBlobs, type FileInput } from './files.ts';
import type {
  AccessToken, Algorithm, AnnotationInput, AuditPredictions, BulkResult, Callback, CallbackDelivery, Health, InspectResponse, ItemDetail, ItemRowsPage, ItemsResponse, Model, ModelHeldOut, ModelDetail,
  LicenseState, ParameterOverride, Preferences, Processes, SampleProjectJob, SampleProjectOptions, ServeResponse, StatusOk, Target, UploadResponse,
} from './types.ts';

export type Language = 'en' | 'ja';

export interface SDKOptions {
  /**
   * The server's API root, e.g. `http://127.0.0.1:8080/api`; a bare `http://host:port` gets `/api` added, and
   * in a browser a relative `/api` means the page's own server.
   */
  apiUrl: string;
  clientId?: string;
  clientSecret?: string;
  /** Language of error titles and status texts. */
  language?: Language;
  /** A token obtained earlier; without credentials the SDK cannot renew it. */
  accessToken?: string;
  /** Another `fetch` (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

/** Parameter values by name (or by numeric `algorithm_parameter_id`), as `train` and `resolveParameters` take them. */
export type ParameterValues = Record<string, string | number | boolean | readonly (string | number)[]>;

export interface WaitOptions {
  /** Give up after this long (default 10 minutes) with a `WaitTimeoutError`. */
  timeoutMs?: number;
  /** Time between polls (default 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** An inspection target (beyond the original): its id, or its name. Left out: the default target. */
export type TargetRef = number | string;

export interface UploadOptions {
  /** Put all files of this upload into one item with several images (beyond the original). */
  itemId?: string;
  /** The target new items belong to. */
  target?: TargetRef;
}

export interface UploadFolderOptions extends UploadOptions {
  /** `true` good, `false` defective (both for training), `undefined` for prediction. */
  isGood?: boolean;
  recursive?: boolean;
  /** Files per request (default 20). */
  batchSize?: number;
  onProgress?: (uploaded: number, total: number) => void;
}

export interface ItemsQuery {
  /** Items of this target (default: the default target). */
  target?: TargetRef;
  status?: 'pending' | 'done';
  limit?: number;
  cursor?: string;
}

interface RequestBody {
  json?: unknown;
  /** Built anew for each attempt, so a retried upload sends its files again. */
  form?: () => FormData;
}

/** Renew a token this long before the server would expire it. */
const RENEW_MARGIN_MS = 60_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Turns a value into the string the wire carries: tuples as `[a, b]`, like the original's defaults. */
function encodeValue(value: ParameterValues[string], dataType?: string): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  const text = String(value).trim();
  // `16,16` or `16x16` from a command line means the tuple (16, 16).
  if (dataType === 'tuple' && !text.startsWith('[') && /^[-\d.eE+]+\s*[,x]\s*[-\d.eE+]+$/.test(text)) {
    return `[${text.split(/\s*[,x]\s*/).join(', ')}]`;
  }
  return text;
}

/**
 * A client of the Kensa API with the methods of the original visual-inspection SDK, in its order and meaning,
 * plus the newer routes and the helpers people wrote by hand (`waitForModel`, `waitForItems`, `uploadFolder`).
 *
 * It authorizes on the first call that needs a token and, when a token expires, authorizes again once and
 * retries. Every failure the server answers is thrown as an {@link APIError}. Responses keep the wire's
 * snake_case field names.
 *
 * @example
 * const sdk = new VisualInspectionSDK({ apiUrl: 'http://127.0.0.1:8080/api', clientId: 'me', clientSecret: 's3cret' });
 * const { item_ids } = await sdk.upload(['ok-1.png', 'ok-2.png'], true);
 * const model = await sdk.train('PM', 'first', {}, item_ids);
 * await sdk.waitForModel(model.model_id);
 */
export class VisualInspectionSDK {
  /** The API root every path is relative to, ending in `/api`. */
  readonly apiUrl: string;
  /** Language of error titles and status texts; may be changed between calls. */
  language: Language;
  private readonly clientId?: string;
  private readonly clientSecret?: string;
  private readonly fetchImpl: typeof fetch;
  private token: string | null;
  private tokenRenewAt = Number.POSITIVE_INFINITY;
  private pendingAuthorization: Promise<AccessToken> | null = null;

  constructor(options: SDKOptions) {
    if (!options?.apiUrl) throw new TypeError('apiUrl is required');
    // In a browser a relative root (`/api`) means this page's server.
    const page = (globalThis as { location?: { href?: string } }).location?.href;
    let root: URL;
    try {
      root = new URL(options.apiUrl, page);
    } catch {
      throw new TypeError(`apiUrl must be an absolute URL such as http://127.0.0.1:8080/api, not ${options.apiUrl}`);
    }
    const trimmed = `${root.origin}${root.pathname.replace(/\/+$/, '')}`;
    this.apiUrl = trimmed.endsWith('/api') ? trimmed : `${trimmed}/api`;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.language = options.language ?? 'en';
    this.token = options.accessToken ?? null;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The current access token, if one was obtained (e.g. to cache it between command-line runs). */
  get accessToken(): string | null {
    return this.token;
  }

  // ---- The original's methods, in its order -------------------------------------------------------------

  /** Exchanges the client id and secret for an access token (done lazily by every other call). */
  async authorize(): Promise<AccessToken> {
    if (!this.clientId || !this.clientSecret) throw new TypeError('clientId and clientSecret are needed to authorize');
    this.pendingAuthorization ??= (async () => {
      try {
        const answer = await this.request<AccessToken>('POST', '/auth/token', {
          json: { client_id: this.clientId, client_secret: this.clientSecret, grant_type: 'client_credentials' },
        }, false);
        this.token = answer.access_token;
        this.tokenRenewAt = Date.now() + Math.max(0, answer.expires * 1000 - RENEW_MARGIN_MS);
        return answer;
      } finally {
        this.pendingAuthorization = null;
      }
    })();
    return this.pendingAuthorization;
  }

  /** Activates a license file (path, bytes or Blob) for this client. */
  async activateLicense(file: FileInput): Promise<StatusOk> {
    const [license] = await toNamedBlobs([file]);
    return this.request('POST', '/v1/license', {
      form: () => {
        const form = new FormData();
        form.append('license', license.blob, license.name);
        return form;
      },
    });
  }

  /** This client's license state (beyond the original): active, missing or expired, its limits and their usage. */
  getLicense(): Promise<LicenseState> {
    return this.request('GET', '/v1/license');
  }

  /** The server's version string, e.g. `"1.0.0"` (needs no token). */
  getVersionNumber(): Promise<string> {
    return this.request('GET', '/auth/app_version', {}, false);
  }

  /**
   * The server's health (beyond the original; needs no token): answers while its database does, with the job
   * backlog. A server that cannot reach its database answers 503, which this throws as an APIError.
   */
  getHealth(): Promise<Health> {
    return this.request('GET', '/health', {}, false);
  }

  /** Training, prediction and archived items with a summary (`limit`/`cursor` page through them). */
  getItems(query: ItemsQuery = {}): Promise<ItemsResponse> {
    return this.request('GET', `/v1/items${queryString(query)}`);
  }

  /** Every algorithm with its parameters (stable ids, defaults, ranges, AutoTune candidates). */
  getAlgorithms(): Promise<Algorithm[]> {
    return this.request('GET', '/v1/algorithms');
  }

  /** This client's models (of one target, when named); per target, the newest that trained successfully is `active`. */
  getModels(options: { target?: TargetRef } = {}): Promise<Model[]> {
    return this.request('GET', `/v1/models${queryString({ target: options.target })}`);
  }

  /** Deletes models (all of them or, when one is unknown, none). */
  deleteModels(modelIds: readonly (number | string)[]): Promise<StatusOk> {
    return this.request('DELETE', '/v1/model', { json: { model_ids: modelIds } });
  }

  /**
   * Starts training; answers at once with the model in status `creating` (see {@link waitForModel}).
   * `params` is the original's `[{ algorithm_parameter_id, value }]` list, or values by parameter name
   * (`{ working_size: 128, min_inspection_size: [16, 16] }`), which are looked up in `getAlgorithms()`.
   * Without `itemIds` every training item is used.
   */
  async train(
    algorithmId: string,
    modelName: string,
    params: readonly ParameterOverride[] | ParameterValues = [],
    itemIds?: readonly string[],
    options: { target?: TargetRef } = {},
  ): Promise<Model> {
    const overrides = Array.isArray(params)
      ? (params as ParameterOverride[]).map((p) => ({ algorithm_parameter_id: p.algorithm_parameter_id, value: encodeValue(p.value) }))
      : Object.keys(params).length ? await this.resolveParameters(algorithmId, params as ParameterValues) : [];
    const body: Record<string, unknown> = { algorithm_id: algorithmId, name: modelName, override_params: overrides };
    if (itemIds) body.item_ids = itemIds;
    if (options.target !== undefined) body.target = options.target;
    return this.request('POST', '/v1/train', { json: body });
  }

  /**
   * Uploads images. `isGood` `true`/`false` adds training items labelled good/defective; left out, the items
   * are for prediction. Each file's name without extension becomes its item id.
   */
  async upload(files: readonly FileInput[] | FileInput, isGood?: boolean, options: UploadOptions = {}): Promise<UploadResponse> {
    const blobs = await toNamedBlobs(Array.isArray(files) ? files : [files as FileInput]);
    return this.request('POST', '/v1/upload', {
      form: () => {
        const form = new FormData();
        blobs.forEach((file, index) => form.append(`files[${index}]`, file.blob, file.name));
        form.append('training', isGood === undefined ? 'false' : 'true');
        if (isGood !== undefined) form.append('good', isGood ? 'true' : 'false');
        if (options.itemId) form.append('item_id', options.itemId);
        if (options.target !== undefined) form.append('target', String(options.target));
        return form;
      },
    });
  }

  /** Replaces the annotations (defect boxes, pixels of the original image) of one image. */
  setAnnotations(annotations: readonly AnnotationInput[], imageId: number | string): Promise<StatusOk> {
    return this.request('POST', `/v1/image/${encodeURIComponent(String(imageId))}/annotation`, { json: { annotations } });
  }

  /** One item with its images, annotations and every model's assessments. */
  getItem(itemId: string, options: { showAnnotations?: boolean; showAssessments?: boolean } = {}): Promise<ItemDetail> {
    const query = queryString({ show_annotations: options.showAnnotations, show_assessments: options.showAssessments });
    return this.request('GET', `/v1/item/${encodeURIComponent(itemId)}${query}`);
  }

  /**
   * Queues items for prediction by `modelId`, or by the active model of `options.target` (default: the items'
   * target) (see {@link waitForItems}).
   */
  serve(itemIds: readonly string[], modelId?: number | string, options: { target?: TargetRef } = {}): Promise<ServeResponse> {
    const body: Record<string, unknown> = { item_ids: itemIds };
    if (modelId !== undefined && modelId !== null) body.model_id = modelId;
    if (options.target !== undefined) body.target = options.target;
    return this.request('POST', '/v1/serve', { json: body });
  }

  /** What runs now: model names being trained, item ids being predicted. */
  getProcesses(): Promise<Processes> {
    return this.request('GET', '/v1/workers');
  }

  // ---- Beyond the original (the contract's newer routes; each needs a server that has the route) -----------

  /** One model with its stats and evaluation. */
  getModel(modelId: number | string): Promise<ModelDetail> {
    return this.request('GET', `/v1/models/${encodeURIComponent(String(modelId))}`);
  }

  /**
   * Changes a model's prediction parameters (threshold, min_detected_area, ignore_outer, …) without retraining;
   * `overrides` as `train` takes them (see `resolveParameters` to give names).
   */
  updateModel(modelId: number | string, overrides: readonly ParameterOverride[]): Promise<Model> {
    return this.request('PATCH', `/v1/models/${encodeURIComponent(String(modelId))}`, { json: { override_params: overrides } });
  }

  /** The model as one portable file, to `importModel` on another installation. */
  exportModel(modelId: number | string): Promise<Uint8Array> {
    return this.requestBytes('POST', `/v1/models/${encodeURIComponent(String(modelId))}/export`);
  }

  /**
   * Installs a model file made by `exportModel` (into `options.target`); answers with the new model. The server
   * checks the file's signature: its own exports are accepted; a file signed by another installation, or unsigned,
   * only with `trust: true` (say so only when you trust where the file comes from). A file changed after export is
   * refused always.
   */
  async importModel(file: FileInput, options: { target?: TargetRef; trust?: boolean } = {}): Promise<Model> {
    const [model] = await toNamedBlobs([file]);
    return this.request('POST', '/v1/models/import', {
      form: () => {
        const form = new FormData();
        form.append('model', model.blob, model.name);
        if (options.target !== undefined) form.append('target', String(options.target));
        if (options.trust) form.append('trust', 'true');
        return form;
      },
    });
  }

  /** Synchronous inspection: results in the answer, nothing stored unless `store`. */
  async inspect(
    files: readonly FileInput[] | FileInput,
    options: { modelId?: number | string; store?: boolean; heatmap?: boolean; target?: TargetRef } = {},
  ): Promise<InspectResponse> {
    const blobs = await toNamedBlobs(Array.isArray(files) ? files : [files as FileInput]);
    return this.request('POST', '/v1/inspect', {
      form: () => {
        const form = new FormData();
        blobs.forEach((file, index) => form.append(`files[${index}]`, file.blob, file.name));
        if (options.modelId !== undefined) form.append('model_id', String(options.modelId));
        if (options.store) form.append('store', 'true');
        if (options.heatmap) form.append('heatmap', 'true');
        if (options.target !== undefined) form.append('target', String(options.target));
        return form;
      },
    });
  }

  /**
   * A person's review of an item: confirms (`good` equal to the verdict) or overrides it; on a training item
   * it sets the label.
   */
  reviewItem(itemId: string, good: boolean): Promise<ItemDetail> {
    return this.request('PATCH', `/v1/item/${encodeURIComponent(itemId)}`, { json: { good } });
  }

  /** Moves an item to the archive (`archived` true) or back. */
  archiveItem(itemId: string, archived = true): Promise<ItemDetail> {
    return this.request('PATCH', `/v1/item/${encodeURIComponent(itemId)}`, { json: { archived } });
  }

  /** Deletes an item with its images and results. */
  deleteItem(itemId: string): Promise<StatusOk> {
    return this.request('DELETE', `/v1/item/${encodeURIComponent(itemId)}`);
  }

  /**
   * One page of a target's items as compact rows (verdict, each model's score, review state, dates), for lists of
   * thousands; pass `next_cursor` back as `cursor` for the next page (null on the last).
   */
  getItemRows(query: { target?: TargetRef; limit?: number; cursor?: string } = {}): Promise<ItemRowsPage> {
    return this.request('GET', `/v1/items/rows${queryString(query)}`);
  }

  /**
   * Labels many items at once: `true` OK / good, `false` NG / defect, `null` unlabelled. A training item gets the
   * label; a predicted item is reviewed (confirmed or overridden), and `null` takes the review back. All or none.
   */
  labelItems(itemIds: readonly string[], good: boolean | null): Promise<BulkResult> {
    return this.request('POST', '/v1/items/bulk', { json: { item_ids: itemIds, action: 'label', good } });
  }

  /** Moves many items to the archive (`archived` true) or back. All or none. */
  archiveItems(itemIds: readonly string[], archived = true): Promise<BulkResult> {
    return this.request('POST', '/v1/items/bulk', { json: { item_ids: itemIds, action: archived ? 'archive' : 'restore' } });
  }

  /** Moves many items to another target (product line). All or none. */
  moveItems(itemIds: readonly string[], target: TargetRef): Promise<BulkResult> {
    return this.request('POST', '/v1/items/bulk', { json: { item_ids: itemIds, action: 'move', target } });
  }

  /**
   * A model's held-out images with their labels and the scores a model that never saw them gave (two-fold
   * cross-fitting in training): what ROC / precision–recall curves and a confusion matrix at any threshold are drawn from.
   */
  getModelEvaluation(modelId: number | string): Promise<ModelHeldOut> {
    return this.request('GET', `/v1/models/${encodeURIComponent(String(modelId))}/evaluation`);
  }

  /** Predictions of a target finished in a date range (UTC days `YYYY-MM-DD`, both included), for audits. */
  getAuditPredictions(query: { from: string; to: string; target?: TargetRef }): Promise<AuditPredictions> {
    return this.request('GET', `/v1/audit/predictions${queryString({ ...query, format: 'json' })}`);
  }

  /** The same as CSV (RFC 4180, UTF-8 with a byte-order mark, formula-guarded text), as bytes to save. */
  exportAuditCsv(query: { from: string; to: string; target?: TargetRef }): Promise<Uint8Array> {
    return this.requestBytes('GET', `/v1/audit/predictions${queryString({ ...query, format: 'csv' })}`);
  }

  /** The client's preferences: the product line last chosen in the web UI. */
  getPreferences(): Promise<Preferences> {
    return this.request('GET', '/v1/preferences');
  }

  /** Remembers the client's product line (null: none). */
  setPreferences(preferences: Preferences): Promise<Preferences> {
    return this.request('PUT', '/v1/preferences', { json: preferences });
  }

  /** The client's inspection targets, the default one first. */
  getTargets(): Promise<Target[]> {
    return this.request('GET', '/v1/targets');
  }

  /** Creates an inspection target; `mqttUrl` is a broker that receives its finished predictions. */
  createTarget(name: string, options: { mqttUrl?: string } = {}): Promise<Target> {
    const body: Record<string, unknown> = { name };
    if (options.mqttUrl !== undefined) body.mqtt_url = options.mqttUrl;
    return this.request('POST', '/v1/targets', { json: body });
  }

  /** Deletes an empty target (by id or name; its items and models go first); the server closes its broker connection. */
  deleteTarget(target: number | string): Promise<StatusOk> {
    return this.request('DELETE', `/v1/targets/${encodeURIComponent(String(target))}`);
  }

  /**
   * Registers a URL that receives each finished prediction (of `modelId` only, when given), signed with
   * `X-Kensa-Signature: sha256=<HMAC-SHA256 of the body>`; the answer holds the `secret`, shown this once.
   */
  registerCallback(url: string, options: { modelId?: number | string } = {}): Promise<Callback> {
    const body: Record<string, unknown> = { url };
    if (options.modelId !== undefined) body.model_id = options.modelId;
    return this.request('POST', '/v1/callbacks', { json: body });
  }

  /** Registered callbacks with counts of pending, delivered and failed deliveries. */
  getCallbacks(): Promise<Callback[]> {
    return this.request('GET', '/v1/callbacks');
  }

  /** The newest deliveries of a callback and where each stands. */
  getCallbackDeliveries(callbackId: number | string): Promise<CallbackDelivery[]> {
    return this.request('GET', `/v1/callbacks/${encodeURIComponent(String(callbackId))}/deliveries`);
  }

  deleteCallback(callbackId: number | string): Promise<StatusOk> {
    return this.request('DELETE', `/v1/callbacks/${encodeURIComponent(String(callbackId))}`);
  }

  // ---- Helpers --------------------------------------------------------------------------------------------

  /**
   * Turns parameter values by name (or by numeric id) into `override_params` for `algorithmId`, checking
   * each name against the algorithm's parameters. Tuples may be arrays, `"16,16"` or `"[16, 16]"`.
   */
  async resolveParameters(algorithmId: string, values: ParameterValues): Promise<ParameterOverride[]> {
    const algorithm = (await this.getAlgorithms()).find((a) => a.algorithm_id === algorithmId);
    if (!algorithm) throw new Error(`Unknown algorithm ${algorithmId}`);
    return Object.entries(values).map(([key, value]) => {
      const parameter = algorithm.parameters.find((p) => p.name === key || String(p.algorithm_parameter_id) === key);
      if (!parameter) {
        const known = algorithm.parameters.map((p) => p.name).join(', ');
        throw new Error(`${algorithmId} has no parameter ${key}; its parameters: ${known}`);
      }
      return { algorithm_parameter_id: parameter.algorithm_parameter_id, value: encodeValue(value, parameter.data_type) };
    });
  }

  /**
   * Polls until the model is active and returns it; throws `ModelFailedError` if training failed and
   * `WaitTimeoutError` when the time runs out. `onProgress` sees the model at each poll.
   */
  async waitForModel(modelId: number | string, options: WaitOptions & { onProgress?: (model: Model) => void } = {}): Promise<Model> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const model = (await this.getModels()).find((m) => String(m.model_id) === String(modelId));
      if (!model) throw new Error(`Model ${modelId} no longer exists`);
      options.onProgress?.(model);
      if (model.status === 'active') return model;
      if (model.status === 'failed') throw new ModelFailedError(model.model_id, model.status_text ?? null);
      if (Date.now() >= deadline) throw new WaitTimeoutError(`Model ${modelId} still ${model.status} after ${options.timeoutMs ?? 600_000} ms`);
      await sleep(options.intervalMs ?? 1000, options.signal);
    }
  }

  /**
   * Starts the sample project (beyond): generated images in the target "Kensa demo", a model trained, a held-back
   * set predicted. Answers at once with the job; while one runs, that job is answered instead of a new one.
   */
  createSampleProject(options: SampleProjectOptions = {}): Promise<SampleProjectJob> {
    return this.request('POST', '/v1/samples', { json: options });
  }

  /** This client's sample-project jobs since the server started, newest first. */
  getSampleProjects(): Promise<SampleProjectJob[]> {
    return this.request('GET', '/v1/samples');
  }

  getSampleProject(jobId: string): Promise<SampleProjectJob> {
    return this.request('GET', `/v1/samples/${encodeURIComponent(jobId)}`);
  }

  /** Polls a sample-project job until it is done; a failed job throws an Error with its reason. */
  async waitForSampleProject(jobId: string, options: WaitOptions & { onProgress?: (job: SampleProjectJob) => void } = {}): Promise<SampleProjectJob> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const job = await this.getSampleProject(jobId);
      options.onProgress?.(job);
      if (job.status === 'done') return job;
      if (job.status === 'failed') throw new Error(`Sample project ${jobId} failed: ${job.error ?? 'unknown reason'}`);
      if (Date.now() >= deadline) throw new WaitTimeoutError(`Sample project ${jobId} still at ${job.step} after ${options.timeoutMs ?? 600_000} ms`);
      await sleep(options.intervalMs ?? 1000, options.signal);
    }
  }

  /**
   * Polls until every item has been predicted (`status: "done"` and no longer running) and returns their
   * details in the order given. `onProgress(done, total)` is called whenever the count changes.
   */
  async waitForItems(
    itemIds: readonly string[],
    options: WaitOptions & { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<ItemDetail[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    const finished = new Map<string, ItemDetail>();
    let reported = -1;
    for (;;) {
      // One cheap call tells which items still run; only the others are fetched, once each when they finish.
      const running = new Set((await this.getProcesses()).predicting.map(String));
      for (const id of itemIds) {
        if (finished.has(id) || running.has(id)) continue;
        const detail = await this.getItem(id);
        if (detail.status === 'done') finished.set(id, detail);
      }
      if (finished.size !== reported) {
        reported = finished.size;
        options.onProgress?.(finished.size, itemIds.length);
      }
      if (finished.size === new Set(itemIds).size) return itemIds.map((id) => finished.get(id)!);
      if (Date.now() >= deadline) {
        const waiting = itemIds.filter((id) => !finished.has(id));
        throw new WaitTimeoutError(`${waiting.length} item(s) not predicted after ${options.timeoutMs ?? 600_000} ms: ${waiting.slice(0, 5).join(', ')}`);
      }
      await sleep(options.intervalMs ?? 1000, options.signal);
    }
  }

  /** Uploads every image file of a folder (Node only), in batches, and returns all item ids. */
  async uploadFolder(dir: string, options: UploadFolderOptions = {}): Promise<UploadResponse> {
    const { listImageFiles } = await import('./node-files.ts');
    const paths = await listImageFiles(dir, options.recursive);
    if (paths.length === 0) throw new Error(`No image files in ${dir}`);
    const batchSize = Math.max(1, options.batchSize ?? 20);
    const itemIds: string[] = [];
    options.onProgress?.(0, paths.length);
    for (let start = 0; start < paths.length; start += batchSize) {
      const batch = paths.slice(start, start + batchSize);
      const answer = await this.upload(batch, options.isGood, options);
      for (const id of answer.item_ids) if (!itemIds.includes(id)) itemIds.push(id);
      options.onProgress?.(start + batch.length, paths.length);
    }
    return { item_ids: itemIds };
  }

  /** Downloads a file the API links to (`url`, `raw_url`, `heatmap_url`, …) with this client's token. */
  downloadFile(url: string): Promise<Uint8Array> {
    return this.requestBytes('GET', url);
  }

  // ---- Transport ------------------------------------------------------------------------------------------

  private resolveUrl(path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    // Links the server returns may be root-relative (`/api/...`); API paths here are relative to the API root.
    if (path.startsWith('/api/')) return new URL(path, this.apiUrl).toString();
    return `${this.apiUrl}${path}`;
  }

  /** The token to send, and whether it was minted for this very call (then a 401 is not about its age). */
  private async bearer(): Promise<{ token: string; fresh: boolean }> {
    let fresh = false;
    if (this.clientId && this.clientSecret && (!this.token || Date.now() >= this.tokenRenewAt)) {
      await this.authorize();
      fresh = true;
    }
    if (!this.token) throw new TypeError('No access token: give clientId and clientSecret, or accessToken');
    return { token: this.token, fresh };
  }

  private async send(method: string, path: string, body: RequestBody, authorized: boolean): Promise<Response> {
    const url = this.resolveUrl(path);
    const pointer = new URL(url).pathname;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'Accept-Language': this.language, Accept: 'application/json' };
      let freshToken = false;
      if (authorized) {
        const { token, fresh } = await this.bearer();
        headers.Authorization = `Bearer ${token}`;
        freshToken = fresh;
      }
      let payload: BodyInit | undefined;
      if (body.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body.json);
      } else if (body.form) {
        payload = body.form();
      }
      let response: Response;
      try {
        response = await this.fetchImpl(url, { method, headers, body: payload });
      } catch (error) {
        throw new APIError(0, `Cannot reach ${new URL(url).origin}`, error instanceof Error ? (error.cause as Error)?.message ?? error.message : String(error), pointer);
      }
      // A token the server no longer accepts (expired, server keys rotated): authorize again, once. A token
      // minted for this call is not stale, so its 401 (e.g. another client's item) is final.
      if (response.status === 401 && authorized && attempt === 0 && !freshToken && this.clientId && this.clientSecret) {
        await response.body?.cancel();
        await this.authorize();
        continue;
      }
      if (!response.ok) {
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch { /* not JSON: keep the text */ }
        throw APIError.fromBody(response.status, response.statusText, parsed, pointer);
      }
      return response;
    }
  }

  private async request<T>(method: string, path: string, body: RequestBody = {}, authorized = true): Promise<T> {
    const response = await this.send(method, path, body, authorized);
    const text = await response.text();
    let parsed: { data?: T };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new APIError(response.status, 'Invalid JSON in response', text.slice(0, 500), new URL(this.resolveUrl(path)).pathname);
    }
    return (parsed && typeof parsed === 'object' && 'data' in parsed ? parsed.data : parsed) as T;
  }

  private async requestBytes(method: string, path: string): Promise<Uint8Array> {
    const response = await this.send(method, path, {}, true);
    return new Uint8Array(await response.arrayBuffer());
  }
}

function queryString(values: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== null) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
