/**
 * JSON schemas of the wire contract: request bodies are validated with them, and with the response
 * schemas they make the OpenAPI document. Responses are serialised with plain JSON.stringify (see app.ts),
 * so a response schema documents and never rewrites an answer.
 */
const nullable = (type: string) => ({ type: [type, 'null'] });
/** Item, image, annotation and assessment dates: ISO 8601 with the original's `+00:00` offset (models' dates end in `Z`, as the original's did). */
const itemDate = { type: 'string', format: 'date-time', example: '2026-01-01T00:00:00+00:00', description: 'ISO 8601 with a "+00:00" offset, as the original wrote it' };
const pixel = { type: 'integer', description: 'Whole pixels of the original image (fractions sent are rounded)' };
/** The original's `override`: the verdict a person gave, or null. */
const override = {
  type: ['object', 'null'], additionalProperties: true, description: "A person's verdict (a review, or a training item's label), else null",
  properties: { label: { type: 'string', enum: ['OK', 'NG'] }, result: { type: 'string', enum: ['good', 'defect'] }, detected_objects: { type: 'null' }, detection_accuracy: { type: 'null' } },
};
const open = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: true });

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  properties: {
    errors: open({
      status: { type: 'integer' },
      title: { type: 'string' },
      detail: { anyOf: [{ type: 'null' }, { type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      source: open({ pointer: { type: 'string' } }),
    }, ['status', 'title', 'detail', 'source']),
  },
};

export const annotationSchema = {
  $id: 'Annotation',
  ...open({
    annotation_id: { type: 'integer' }, image_id: { type: 'integer' }, x_min: pixel, x_max: pixel,
    y_min: pixel, y_max: pixel, notes: nullable('string'), created_at: itemDate,
    for_training: { type: 'boolean', description: 'Always true: training uses every box a person draws' },
  }),
};

export const imageSchema = {
  $id: 'Image',
  ...open({
    image_id: { type: 'integer' }, file_name: { type: 'string' }, content_type: { type: 'string' }, file_size: { type: 'integer' },
    width: { type: 'integer' }, height: { type: 'integer' }, raw_url: { type: 'string', description: 'The upload' },
    url: { type: 'string', description: 'The upload with detected defects drawn as green boxes (the raw image before any prediction)' },
    heatmap_url: { ...nullable('string'), description: 'Anomaly heatmap of the newest prediction' },
    thumbnail_url: { type: 'string' }, created_at: itemDate,
    processed: { type: 'boolean', description: 'Predicted, or part of a training item' },
    defects: { type: 'integer', description: 'Number of annotation boxes on the image' },
    defect_counted: { type: 'integer', description: 'Number of boxes the newest prediction found (0 before one)' },
    exif_metadata: {
      type: 'object', additionalProperties: true,
      description: 'The EXIF as the original wrote it: tags by name, rationals as [numerator, denominator], GPSInfo by tag number; '
        + 'ColorSpace always (the EXIF integer: 1 sRGB, 65535 uncalibrated)',
      properties: { ColorSpace: { type: 'integer' }, Orientation: { type: 'integer' } },
    },
    key: { type: 'string', description: 'SHA-256 of the image file' },
    batch_id: { type: 'string', description: 'Always "" (no upload batches in Kensa)' },
    position: { type: 'string', description: 'Always "" (no camera positions in Kensa)' },
    uploaded: { type: 'boolean', description: 'Always true' }, is_raw_uploaded: { type: 'boolean', description: 'Always true' },
    annotations: { type: 'array', items: { $ref: 'Annotation#' } },
  }),
};

const aggregate = open({ label: { type: 'string', enum: ['OK', 'NG'] }, detected_objects: { type: 'integer' } });
const verdict = open({
  label: { type: 'string', enum: ['OK', 'NG'] }, result: { type: 'string', enum: ['good', 'defect'] }, detected_objects: { type: 'integer' },
  detection_accuracy: { type: 'number' }, score: { type: 'number' },
});

export const assessmentSchema = {
  $id: 'Assessment',
  ...open({
    image_id: { type: 'integer' }, model_id: { type: 'integer' }, created_at: itemDate, finished_date: itemDate,
    confirmed: { type: 'boolean' }, computed: verdict, final: verdict,
    annotations: {
      type: 'array', description: 'Detected boxes, in the shape of annotations (annotation_id 0, notes null, for_training false)',
      items: open({
        annotation_id: { type: 'integer' }, x_min: pixel, x_max: pixel, y_min: pixel, y_max: pixel, score: { type: 'number' },
        notes: { type: 'null' }, created_at: itemDate, for_training: { type: 'boolean' },
      }),
    },
  }),
};

const itemProperties = {
  item_id: { type: 'string' }, label: nullable('string'), description: nullable('string'),
  active: { type: 'boolean', description: 'Always true (Kensa archives instead)' }, created_at: itemDate,
  finished_date: { ...itemDate, type: ['string', 'null'] }, default_image: nullable('string'), thumbnail_image: nullable('string'),
  is_training_data: { type: 'boolean' }, good: nullable('boolean'),
  status: { type: 'string', enum: ['pending', 'done'], description: 'Training items are done from their upload' },
  detected_objects: { type: 'integer' }, confirmed_assessment: { type: 'boolean' }, override_assessment: { type: 'boolean' }, override,
  models: { type: 'array', items: open({ model_id: { type: 'integer' }, aggregate, assessments: { type: 'array', items: { $ref: 'Assessment#' } } }) },
};

export const itemSchema = { $id: 'Item', ...open(itemProperties) };

export const itemDetailSchema = {
  $id: 'ItemDetail',
  ...open({
    ...itemProperties,
    images: { type: 'array', items: { $ref: 'Image#' } },
    computed_assessment: open({ assessment_result: nullable('string'), detected_objects: nullable('integer'), detection_accuracy: nullable('number'), good: nullable('boolean') }),
    manual_assessment: open({ good: nullable('boolean'), override_assessment: { type: 'boolean' } }),
  }),
};

export const summarySchema = {
  $id: 'Summary',
  ...open({
    title: { type: 'string' },
    training_stats: open({ OK_count: { type: 'integer' }, NG_count: { type: 'integer' }, unlabelled_count: { type: 'integer' } }),
    predict_stats: {
      type: 'array',
      items: open({
        model_id: { type: 'integer' }, OK_count: { type: 'integer' }, NG_count: { type: 'integer' }, done_count: { type: 'integer' },
        confirmed_count: { type: 'integer' }, adjusted_count: { type: 'integer' },
        accuracy: { type: 'integer', minimum: 0, maximum: 100, description: 'Percentage of confirmed results a person kept, rounded; 0 while none is confirmed' },
      }),
    },
  }),
};

export const algorithmSchema = {
  $id: 'Algorithm',
  ...open({
    algorithm_id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string', enum: ['unsupervised', 'supervised'] },
    description: { type: 'string' },
    parameters: {
      type: 'array',
      items: open({
        algorithm_parameter_id: { type: 'integer' }, name: { type: 'string' }, data_type: { type: 'string', enum: ['int', 'float', 'tuple', 'str'] },
        value: { ...nullable('string'), description: 'Default, as a string; null = chosen automatically' }, range: { type: 'string' },
        auto_tune: { anyOf: [{ type: 'null' }, { type: 'array', items: nullable('string') }] }, model_parameter: { type: 'boolean' },
        created_at: { type: 'string' }, updated_at: { type: 'string' },
      }),
    },
  }),
};

const rate = open({ computed: nullable('number'), projected: nullable('number') });
export const modelSchema = {
  $id: 'Model',
  ...open({
    model_id: { type: 'integer' }, name: { type: 'string' }, algorithm_id: { type: 'string' }, algorithm_type: { type: 'string' },
    target_id: { type: 'integer' }, context_id: { type: 'integer', description: 'The same as target_id (the original called it a context)' },
    image_url: { ...nullable('string'), description: 'Thumbnail of the first image the model learnt from' },
    active: { type: 'boolean', description: 'The model its target serves now' },
    context_default: { type: 'boolean', description: 'The model its target serves once every training has finished: the newest that has not failed' },
    status: { type: 'string', enum: ['creating', 'active', 'failed'] },
    status_text: nullable('string'), progress: { type: 'number', minimum: 0, maximum: 1 }, version: { type: 'string' },
    created_at: { type: 'string' }, updated_at: { type: 'string' }, ok_img_count: { type: 'integer' }, ng_img_count: { type: 'integer' },
    parameters: { type: 'array', items: open({ algorithm_parameter_id: nullable('integer'), name: { type: 'string' }, value: nullable('string') }) },
    stats: open({ precision: rate, recall: rate }),
    precision: { ...nullable('number'), description: 'stats.precision.projected, where the original put it' },
    recall: { ...nullable('number'), description: 'stats.recall.projected, where the original put it' },
    evaluation: {
      type: ['object', 'null'], description: 'beyond the original: how training judged the model on held-out images',
      properties: {
        auroc: nullable('number'),
        auroc_source: { type: 'string', enum: ['ng_images', 'synthetic_defects', 'none'] },
        threshold: { type: 'number' },
        threshold_reason: { type: 'string', enum: ['best_f1', 'held_out_ok', 'user'] },
        auto_tuned: {
          type: 'object', description: 'per parameter left out: the value AutoTune chose and the held-out AUROC of each candidate it tried (at most five in all)',
          additionalProperties: open({ chosen: nullable('string'), scores: { type: 'array', items: open({ value: nullable('string'), auroc: { type: 'number' } }) } }),
        },
      },
    },
  }),
};

export const SHARED_SCHEMAS = [errorSchema, annotationSchema, imageSchema, assessmentSchema, itemSchema, itemDetailSchema, summarySchema, algorithmSchema, modelSchema];

/** `{"data": …}` around a payload schema. */
export function data(payload: unknown) {
  return { type: 'object', properties: { data: payload }, required: ['data'] };
}

export const ref = (id: string) => ({ $ref: `${id}#` });

/** Error answers of a route, for the document. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, ref('Error')]));
}

export const bearer = [{ bearerAuth: [] }];
