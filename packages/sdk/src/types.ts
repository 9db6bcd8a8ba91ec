/**
 * The wire shapes of the Kensa API (see `shared/spec/CONTRACT.md`), kept in the wire's own snake_case so that
 * what the SDK returns is exactly what the server sent: no renaming layer to drift, and JSON logged by a
 * script matches the API reference one to one.
 */

/** The answer of `POST /api/auth/token`. */
export interface AccessToken {
  access_token: string;
  /** Lifetime in seconds (2592000 = 30 days). */
  expires: number;
}

export type Verdict = 'OK' | 'NG';

export interface ItemModelAggregate {
  model_id: number | string;
  aggregate: { label: Verdict; detected_objects: number };
  /** The model's assessments of the item's images (in a list too, as the original sent them). */
  assessments?: Assessment[];
}

/** A person's verdict on an item (a review, or a training item's label), as the original named it. */
export interface ItemOverride {
  label: Verdict;
  result: 'good' | 'defect';
  detected_objects: number | null;
  detection_accuracy: number | null;
}

/** What an item carries in a list and in its detail. */
export interface ItemFields {
  item_id: string;
  label: string | null;
  description: string | null;
  /** Always true (the original's field; Kensa archives instead). */
  active?: boolean;
  /** ISO 8601 with a "+00:00" offset, as the original wrote item dates. */
  created_at: string;
  finished_date: string | null;
  default_image: string | null;
  thumbnail_image: string | null;
  is_training_data: boolean;
  good: boolean | null;
  status: 'pending' | 'done';
  detected_objects: number | null;
  confirmed_assessment: boolean | null;
  override_assessment: boolean | null;
  /** A person's verdict, else null. */
  override?: ItemOverride | null;
  /** The inspection target the item belongs to (beyond). */
  target_id?: number;
  /** Why the item's last prediction failed (then `good` is null); null when it did not (beyond). */
  prediction_error?: string | null;
}

/** An item as listed by `GET /v1/items`. */
export interface Item extends ItemFields {
  models: ItemModelAggregate[];
  [extra: string]: unknown;
}

export interface Annotation {
  annotation_id: number | string;
  image_id: number | string;
  x_min: number;
  x_max: number;
  y_min: number;
  y_max: number;
  notes: string | null;
  created_at: string;
  /** Always true: training uses every box a person draws. */
  for_training?: boolean;
}

/** A box to store on an image with `setAnnotations` (pixels of the original image). */
export interface AnnotationInput {
  x_min: number;
  x_max: number;
  y_min: number;
  y_max: number;
  notes?: string | null;
}

export interface Image {
  image_id: number | string;
  file_name: string;
  content_type: string;
  file_size: number;
  width: number;
  height: number;
  /** The upload itself. */
  raw_url: string;
  /** The upload with detected defects drawn as green boxes. */
  url: string;
  heatmap_url?: string | null;
  thumbnail_url?: string | null;
  /** Predicted, or part of a training item. */
  processed: boolean;
  created_at?: string;
  /** Number of annotation boxes. */
  defects?: number;
  /** SHA-256 of the file. */
  key?: string;
  /** EXIF tags by name as the original wrote them; `ColorSpace` always, the EXIF integer (1 sRGB, 65535 uncalibrated). */
  exif_metadata: Record<string, unknown>;
  annotations: Annotation[];
  [extra: string]: unknown;
}

export interface AssessmentResult {
  label: string;
  result: 'good' | 'defect';
  detected_objects: number;
  /** 0–100. */
  detection_accuracy: number;
  score: number;
  [extra: string]: unknown;
}

export interface DetectedBox {
  x_min: number;
  x_max: number;
  y_min: number;
  y_max: number;
  score: number;
  [extra: string]: unknown;
}

/** One image's result under one model. */
export interface Assessment {
  image_id: number | string;
  model_id: number | string;
  created_at: string;
  finished_date: string | null;
  confirmed: boolean;
  computed: AssessmentResult;
  final: AssessmentResult;
  annotations: DetectedBox[];
  [extra: string]: unknown;
}

/** `GET /v1/item/{id}`: the item with its images and results. */
export interface ItemDetail extends ItemFields {
  images: Image[];
  computed_assessment: {
    assessment_result: string | null;
    detected_objects: number | null;
    detection_accuracy: number | null;
    good: boolean | null;
  } | null;
  manual_assessment: { good: boolean | null; override_assessment: boolean | null; [extra: string]: unknown } | null;
  models: (ItemModelAggregate & { assessments: Assessment[] })[];
  [extra: string]: unknown;
}

export interface PredictStats {
  model_id: number | string;
  OK_count: number;
  NG_count: number;
  done_count: number;
  confirmed_count: number;
  adjusted_count: number;
  /** Percentage (0–100, an integer) of confirmed results a person kept; 0 while none is confirmed. */
  accuracy: number;
  [extra: string]: unknown;
}

export interface Summary {
  title: string;
  training_stats: { OK_count: number; NG_count: number; [extra: string]: unknown };
  predict_stats: PredictStats[];
  [extra: string]: unknown;
}

/** `GET /v1/items`. */
export interface ItemsResponse {
  training: Item[];
  predict: Item[];
  archived: Item[];
  summary: Summary;
  /** With `limit`: the `cursor` of the next page, null on the last (beyond). */
  next_cursor?: string | null;
}

export interface AlgorithmParameter {
  /** Stable integer id, what `train` takes in `override_params`. */
  algorithm_parameter_id: number;
  name: string;
  data_type: 'int' | 'float' | 'tuple' | 'str';
  /** The default, as a string. */
  value: string | null;
  range?: unknown;
  /** Candidate values when the parameter is tuned automatically, else null. */
  auto_tune?: unknown[] | null;
  model_parameter?: boolean;
  created_at?: string;
  updated_at?: string;
  [extra: string]: unknown;
}

export interface Algorithm {
  algorithm_id: string;
  name: string;
  type: 'unsupervised' | 'supervised';
  description: string;
  parameters: AlgorithmParameter[];
  [extra: string]: unknown;
}

/** One entry of `override_params`; `value` is sent as a string as the original did. */
export interface ParameterOverride {
  algorithm_parameter_id: number;
  value: string;
}

export interface PrecisionRecall {
  computed: number | null;
  projected: number | null;
}

/** How training judged a model on images it held out (beyond the original). */
export interface ModelEvaluation {
  auroc: number | null;
  auroc_source: 'ng_images' | 'synthetic_defects' | 'none';
  threshold: number;
  /** best_f1: with NG images; held_out_ok: a high quantile of good images' scores; user: given. */
  threshold_reason: 'best_f1' | 'held_out_ok' | 'user';
  /** Per parameter left out: the value AutoTune chose, and the held-out AUROC of each candidate it tried. */
  auto_tuned?: Record<string, { chosen: string | null; scores: { value: string | null; auroc: number }[] }>;
}

export interface Model {
  model_id: number | string;
  name: string;
  algorithm_id: string;
  algorithm_type?: string;
  /** The inspection target it belongs to; each target has its own active model (beyond). */
  target_id?: number;
  /** The same as target_id (the original called targets contexts). */
  context_id?: number;
  /** Thumbnail of the first image the model learnt from, or null. */
  image_url?: string | null;
  active: boolean;
  context_default: boolean;
  status: 'creating' | 'active' | 'failed';
  /** Why it failed. */
  status_text?: string | null;
  /** 0–1 while training. */
  progress?: number | null;
  version: string;
  created_at: string;
  updated_at?: string;
  ok_img_count?: number;
  ng_img_count?: number;
  /** The values it was trained with, defaults filled in. */
  parameters?: { algorithm_parameter_id: number; name: string; value: string | null }[];
  /** How it did on held-out images during training (beyond). */
  evaluation?: ModelEvaluation | null;
  stats?: { precision: PrecisionRecall; recall: PrecisionRecall };
  [extra: string]: unknown;
}

/** `GET /v1/models/{id}` (beyond the original): a model with its evaluation. */
export interface ModelDetail extends Model {}

export interface StatusOk {
  status: 'ok';
}

/** `GET /v1/license` (beyond the original): this client's license, its limits (null = none) and their usage. */
/** GET /api/health (beyond the original): the database answers; jobs waiting and running. */
export interface Health {
  status: 'ok';
  version: string;
  database: 'sqlite' | 'postgres';
  /** How job events reach the server: within its process, or by PostgreSQL (reconnecting: missed until back). */
  events: 'local' | 'connected' | 'reconnecting';
  jobs: { queued: number; running: number; oldest_queued_seconds: number | null };
}

export interface LicenseState {
  status: 'active' | 'missing' | 'expired';
  client_id: string;
  /** Of the active license, or of the latest expired one; null when there is none. */
  expires_at: string | null;
  limits: { max_models: number | null; max_predictions_per_month: number | null } | null;
  usage: { models: number; predictions_this_month: number };
}

export interface UploadResponse {
  item_ids: string[];
}

export interface ServeResponse {
  item_ids: string[];
  model_version: string;
}

/** `GET /v1/workers`: what runs now. */
export interface Processes {
  /** Names of models being trained. */
  training: string[];
  /** Ids of items being predicted. */
  predicting: string[];
}

export interface InspectResult {
  file_name: string;
  good: boolean;
  score: number;
  label: string;
  detected_objects: number;
  detection_accuracy: number;
  boxes: DetectedBox[];
  heatmap_url?: string | null;
  [extra: string]: unknown;
}

/** One model's result on an item (beyond): NG when any image is, the highest image score. */
export interface ItemRowResult {
  model_id: number;
  good: boolean;
  score: number;
  threshold: number;
  finished_date: string;
}

/** An item as a compact row (beyond), for lists of thousands. */
export interface ItemRow {
  item_id: string;
  target_id: number;
  tab: 'training' | 'predict' | 'archived';
  is_training_data: boolean;
  /** Training label, or the prediction (a person's review first). */
  verdict: 'good' | 'defect' | 'unlabelled' | 'OK' | 'NG' | 'pending';
  status: 'pending' | 'done';
  prediction_failed: boolean;
  reviewed: boolean;
  overridden: boolean;
  created_at: string;
  finished_date: string | null;
  image_id: number | null;
  /** Each model's result, oldest prediction first (the last is the computed verdict). */
  results: ItemRowResult[];
  [extra: string]: unknown;
}

export interface ItemRowsPage {
  target_id: number;
  rows: ItemRow[];
  next_cursor: string | null;
  /** A signed URL with `{image_id}` to replace by a row's `image_id`. */
  thumbnail_url: string;
}

/** A model's held-out images (beyond): each with its training label and its held-out score. */
export interface ModelHeldOut {
  model_id: number;
  threshold: number | null;
  auroc: number | null;
  held_out: { item_id: string | null; image_id: number | null; good: boolean; score: number }[];
  /** A signed URL with `{image_id}` to replace. */
  thumbnail_url: string;
}

/** One prediction of an item by a model, as audits file them (beyond). */
export interface AuditRow {
  finished_at: string;
  item_id: string;
  product_line: string;
  model_id: number;
  model_name: string;
  model_version: string;
  algorithm: string;
  threshold: number;
  score: number;
  verdict: 'OK' | 'NG';
  /** A person's decision on the item. */
  review: 'confirmed' | 'overridden' | 'none';
  final_verdict: 'OK' | 'NG';
}

export interface AuditPredictions {
  product_line: string;
  rows: AuditRow[];
}

export interface BulkResult {
  changed: number;
}

export interface Preferences {
  /** The product line last chosen; null: none yet. */
  target_id: number | null;
}

/** An inspection target (beyond): a product line with its own items, models and active model. */
export interface Target {
  target_id: number;
  name: string;
  default: boolean;
  item_count: number;
  model_count: number;
  /** Where its finished predictions are published, if anywhere. */
  mqtt: { url: string; topic: string } | null;
  created_at: string;
}

/** A registered prediction callback (beyond); `secret` only in the answer to registration. */
export interface Callback {
  callback_id: number;
  url: string;
  model_id: number | null;
  created_at: string;
  deliveries: { pending: number; delivered: number; failed: number };
  secret?: string;
}

/** One notification to a callback and where its delivery stands (beyond). */
export interface CallbackDelivery {
  delivery_id: number;
  event: string | null;
  item_id: string | null;
  model_id: number | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** `POST /v1/inspect` (beyond): results in the same response. */
export interface InspectResponse {
  results: InspectResult[];
  model_id: number | string;
  model_version: string;
}

/** A sample-project job (beyond): generated images uploaded to the target "Kensa demo", a model trained, a held-back set predicted. */
export interface SampleProjectJob {
  job_id: string;
  status: 'running' | 'done' | 'failed';
  step: 'images' | 'upload' | 'train' | 'predict' | 'done';
  progress: number;
  target_id: number | null;
  model_id: number | null;
  item_ids: string[];
  /** When done: how the held-back images were judged against the truth. */
  results: { defective: number; defective_found: number; good: number; good_passed: number } | null;
  error: string | null;
}

export interface SampleProjectOptions {
  product?: 'metal' | 'wood';
  seed?: number;
  algorithm_id?: string;
  working_size?: number;
}
