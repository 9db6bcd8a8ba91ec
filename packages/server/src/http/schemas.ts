/**
 * JSON schemas of the wire contract: request bodies are validated with them, and with the response
 * schemas they make the OpenAPI document. Responses are serialised with plain JSON.stringify (see app.ts),
 * so a response schema documents and never rewrites an answer.
 */
const nullable = (type: string) => ({ type: [type, 'null'] });
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
    annotation_id: { type: 'integer' }, image_id: { type: 'integer' }, x_min: { type: 'number' }, x_max: { type: 'number' },
    y_min: { type: 'number' }, y_max: { type: 'number' }, notes: nullable('string'), created_at: { type: 'string', format: 'date-time' },
  }),
};

export const imageSchema = {
  $id: 'Image',
  ...open({
    image_id: { type: 'integer' }, file_name: { type: 'string' }, content_type: { type: 'string' }, file_size: { type: 'integer' },
    width: { type: 'integer' }, height: { type: 'integer' }, raw_url: { type: 'string', description: 'The upload' },
    url: { type: 'string', description: 'The upload with detected defects drawn as green boxes (the raw image before any prediction)' },
    heatmap_url: { ...nullable('string'), description: 'Anomaly heatmap of the newest prediction' },
    thumbnail_url: { type: 'string' }, processed: { type: 'boolean' }, exif_metadata: { type: 'object', additionalProperties: true },
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
    image_id: { type: 'integer' }, model_id: { type: 'integer' }, created_at: { type: 'string' }, finished_date: { type: 'string' },
    confirmed: { type: 'boolean' }, computed: verdict, final: verdict,
    annotations: { type: 'array', items: open({ x_min: { type: 'number' }, x_max: { type: 'number' }, y_min: { type: 'number' }, y_max: { type: 'number' }, score: { type: 'number' } }) },
  }),
};

const itemProperties = {
  item_id: { type: 'string' }, label: nullable('string'), description: nullable('string'), created_at: { type: 'string' },
  finished_date: nullable('string'), default_image: nullable('string'), thumbnail_image: nullable('string'),
  is_training_data: { type: 'boolean' }, good: nullable('boolean'), status: { type: 'string', enum: ['pending', 'done'] },
  detected_objects: { type: 'integer' }, confirmed_assessment: { type: 'boolean' }, override_assessment: { type: 'boolean' },
  models: { type: 'array', items: open({ model_id: { type: 'integer' }, aggregate }) },
};

export const itemSchema = { $id: 'Item', ...open(itemProperties) };

export const itemDetailSchema = {
  $id: 'ItemDetail',
  ...open({
    ...itemProperties,
    images: { type: 'array', items: { $ref: 'Image#' } },
    computed_assessment: open({ assessment_result: nullable('string'), detected_objects: nullable('integer'), detection_accuracy: nullable('number'), good: nullable('boolean') }),
    manual_assessment: open({ good: nullable('boolean'), override_assessment: { type: 'boolean' } }),
    models: { type: 'array', items: open({ model_id: { type: 'integer' }, aggregate, assessments: { type: 'array', items: { $ref: 'Assessment#' } } }) },
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
        confirmed_count: { type: 'integer' }, adjusted_count: { type: 'integer' }, accuracy: nullable('number'),
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
    active: { type: 'boolean' }, context_default: { type: 'boolean' }, status: { type: 'string', enum: ['creating', 'active', 'failed'] },
    status_text: nullable('string'), progress: { type: 'number', minimum: 0, maximum: 1 }, version: { type: 'string' },
    created_at: { type: 'string' }, updated_at: { type: 'string' }, ok_img_count: { type: 'integer' }, ng_img_count: { type: 'integer' },
    parameters: { type: 'array', items: open({ algorithm_parameter_id: nullable('integer'), name: { type: 'string' }, value: nullable('string') }) },
    stats: open({ precision: rate, recall: rate }),
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
