import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '../src/index.ts';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/**
 * The original service's C# SDK (HacarusVisualInspectionApi 1.1.2-beta, Newtonsoft.Json 12) reads every answer
 * into typed classes. Below, for each answer it reads, are the JSON property names it maps and what their C#
 * types accept, written down from the SDK's published models (see ../shared/tools/csharp-sdk/REPORT.md), and a
 * whole flow of the original run against a real server. An answer with a missing key, a null where C# has a
 * value type, a fraction where C# has an `int` (Newtonsoft throws), or a string where it has a number fails here.
 */

/**
 * What a C# property accepts from JSON, as Newtonsoft reads it:
 * - `int`: a JSON integer (a fraction throws: "Input string '10.25' is not a valid integer");
 * - `long`: a JSON integer (a fraction is silently rounded, so it is refused here too);
 * - `string`: a string (or a number, which Newtonsoft turns into its text; ids are numbers in Kensa);
 * - `bool`; `double`; `date`: an ISO 8601 date with an explicit offset;
 * - `any`: anything (C# `object`); `dict`: a JSON object (C# `Dictionary<string, object>`).
 * `?` = nullable (C# reference types and `T?`); without it, null throws or turns into a wrong default.
 */
type Scalar = 'int' | 'long' | 'string' | 'bool' | 'double' | 'date' | 'any' | 'dict';
/** A scalar, a class named in CLASSES, either with `?` (nullable) or `[]` (an array of it), or a class inline. */
type Kind = Scalar | `${string}?` | `${string}[]` | CsClass;
interface CsClass { readonly [jsonName: string]: Kind | Optional }
/** A property the original leaves out of some answers (C# then keeps its default, which is what those answers mean). */
class Optional {
  constructor(readonly kind: Kind) {}
}
const optional = (kind: Kind) => new Optional(kind);

// The SDK's models (property names and types from Models/*.cs of 1.1.2-beta).
const Annotation: CsClass = {
  annotation_id: 'int', created_at: 'date', for_training: 'bool', notes: 'string?', x_max: 'int', x_min: 'int', y_max: 'int', y_min: 'int',
};
/** The EXIF keys the SDK declares (ExifMetadata); each is optional, as images carry different tags, but typed when present. */
const ExifMetadata: CsClass = Object.fromEntries([
  ...['ColorSpace', 'ExifImageHeight', 'ExifImageWidth', 'ExifOffset', 'ExposureMode', 'ExposureProgram', 'Flash', 'FocalLengthIn35mmFilm',
    'ISOSpeedRatings', 'MeteringMode', 'Orientation', 'ResolutionUnit', 'SceneCaptureType', 'SensingMethod', 'WhiteBalance', 'YCbCrPositioning']
    .map((key) => [key, optional('int')]),
  ...['ComponentsConfiguration', 'DateTime', 'DateTimeDigitized', 'DateTimeOriginal', 'ExifVersion', 'FlashPixVersion', 'LensMake', 'LensModel',
    'Make', 'Model', 'SceneType', 'Software', 'SubsecTimeDigitized', 'SubsecTimeOriginal'].map((key) => [key, optional('string')]),
  ...['ApertureValue', 'BrightnessValue', 'ExposureBiasValue', 'ExposureTime', 'FNumber', 'FocalLength', 'ShutterSpeedValue', 'SubjectLocation',
    'XResolution', 'YResolution'].map((key) => [key, optional('int[]')]),
  ['LensSpecification', optional('int[][]')], ['GPSInfo', optional('dict')],
]);
const Image: CsClass = {
  annotations: 'Annotation[]', batch_id: 'string', content_type: 'string', created_at: 'date', defects: 'long', exif_metadata: ExifMetadata,
  file_name: 'string', file_size: 'int', height: 'long', image_id: 'long', key: 'string', position: 'string', processed: 'bool',
  uploaded: 'bool', width: 'long', is_raw_uploaded: 'bool', raw_url: 'string', url: 'string',
};
const Override: CsClass = { detected_objects: 'int?', detection_accuracy: 'int?', label: 'string', result: 'string' };
const Assessment: CsClass = {
  annotations: 'Annotation[]', computed: Override, confirmed: 'bool', created_at: 'date', final: Override, finished_date: 'date?',
  image_id: 'long', model_id: 'string',
};
const ItemModel: CsClass = { aggregate: { detected_objects: 'long', label: 'string' }, assessments: 'Assessment[]', model_id: 'string' };
/** An item as GET /items lists it (the original sent no images there). */
const ListedItem: CsClass = {
  active: 'bool', created_at: 'date', default_image: 'string?', description: 'string?', finished_date: 'date?', is_training_data: 'bool',
  item_id: 'string', override: 'Override?', status: 'string', thumbnail_image: 'string?', models: 'ItemModel[]',
};
const Item: CsClass = { ...ListedItem, images: 'Image[]' };
const Stats: CsClass = {
  NG_count: 'long', OK_count: 'long', accuracy: 'long', adjusted_count: 'long', confirmed_count: 'long', done_count: 'long', model_id: 'string',
};
const ItemsData: CsClass = {
  predict: 'ListedItem[]', training: 'ListedItem[]',
  summary: { predict_stats: 'Stats[]', title: 'string', training_stats: { NG_count: 'long', OK_count: 'long' } },
};
const Precision: CsClass = { computed: 'double?', projected: 'double?' };
const ModelData: CsClass = {
  active: 'bool', algorithm_id: 'string', algorithm_type: 'string', context_default: 'bool', created_at: 'date', image_url: 'string?',
  model_id: 'string', name: 'string', ng_img_count: 'long', ok_img_count: 'long', stats: { precision: Precision, recall: Precision },
  status: 'string', status_text: 'string?', version: 'string',
};
const TrainData: CsClass = {
  active: 'bool', algorithm_id: 'string', algorithm_type: 'string', context_default: 'bool', context_id: 'long', created_at: 'date',
  image_url: 'string?', model_id: 'string', name: 'string', ng_img_count: 'long', ok_img_count: 'long', precision: 'any', recall: 'any',
  status: 'string', status_text: 'string?', updated_at: 'date', version: 'string',
};
const Algorithm: CsClass = {
  algorithm_id: 'string', name: 'string',
  parameters: 'AlgorithmParameter[]',
};
const AlgorithmParameter: CsClass = {
  algorithm_parameter_id: 'int', created_at: 'date', data_type: 'string', model_parameter: 'bool', name: 'string', updated_at: 'date', value: 'string?',
};
const Errors: CsClass = { detail: 'any', source: { pointer: 'string' }, status: 'int', title: 'string' };
const CLASSES: Record<string, CsClass> = { Annotation, Image, Override, Assessment, ItemModel, ListedItem, Stats, AlgorithmParameter, Algorithm, ModelData };

/** Every way `value` would not fill C# `kind` at `path`; item dates must also carry the original's `+00:00`. */
function mismatches(value: unknown, kind: Kind, path: string, itemDates: boolean): string[] {
  if (typeof kind === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: an object expected, got ${JSON.stringify(value)}`];
    return Object.entries(kind).flatMap(([key, field]) => {
      if (!(key in value)) return field instanceof Optional ? [] : [`${path}.${key}: missing`];
      return mismatches((value as Record<string, unknown>)[key], field instanceof Optional ? field.kind : field, `${path}.${key}`, itemDates);
    });
  }
  const nullable = kind.endsWith('?');
  const base = nullable ? kind.slice(0, -1) : kind;
  if (value === null || value === undefined) return nullable || base === 'string' || base === 'any' || base.endsWith('[]') ? [] : [`${path}: null for C# ${kind}`];
  if (base.endsWith('[]')) {
    if (!Array.isArray(value)) return [`${path}: an array expected, got ${JSON.stringify(value)}`];
    return value.flatMap((element, index) => mismatches(element, base.slice(0, -2) as Kind, `${path}[${index}]`, itemDates));
  }
  if (base in CLASSES) return mismatches(value, CLASSES[base], path, itemDates);
  const fail = [`${path}: ${JSON.stringify(value)} does not fill C# ${kind}`];
  switch (base) {
    case 'int': return Number.isInteger(value) && Math.abs(value as number) < 2 ** 31 ? [] : fail;
    case 'long': return Number.isInteger(value) ? [] : fail;
    case 'double': return typeof value === 'number' ? [] : fail;
    case 'bool': return typeof value === 'boolean' ? [] : fail;
    case 'string': return typeof value === 'string' || typeof value === 'number' ? [] : fail;
    case 'dict': return typeof value === 'object' && !Array.isArray(value) ? [] : fail;
    case 'date': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return fail;
      // Newtonsoft reads "+00:00" as local time and "Z" as UTC: items carry the original's offset form.
      return itemDates && !value.endsWith('+00:00') ? [`${path}: ${value} is not the original's "+00:00" form`] : [];
    }
    default: return [];
  }
}

function assertFills(answer: { status: number; body: any }, kind: CsClass | Kind, itemDates = false): void {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(mismatches(answer.body.data, kind, 'data', itemDates), []);
}

function assertError(answer: { status: number; body: any }, status: number, title: string, detail: unknown, pointer: string): void {
  assert.deepEqual(mismatches(answer.body.errors, Errors, 'errors', false), []);
  assert.deepEqual(answer.body.errors, { status, title, detail, source: { pointer } });
  assert.equal(answer.status, status);
}

let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
});
after(() => server.dispose());

/** The SDK's GetItem: its two flags as C# writes a bool in a query (capitalised). */
const getItem = (itemId: string, show: boolean) => api.get(`/api/v1/item/${itemId}?show_annotations=${show ? 'True' : 'False'}&show_assessments=${show ? 'True' : 'False'}`);

test('the original C# SDK\'s whole flow: every answer fills its C# models, with the original\'s errors', async () => {
  const good = [0, 1, 2].map((i) => cookie('train/good', i));
  const defect = [0, 1].map((i) => cookie('test/defect', i));
  assertFills(await api.upload(good, { training: 'true', good: 'true' }), { item_ids: 'string[]' });
  assertFills(await api.upload(defect, { training: 'true', good: 'false' }), { item_ids: 'string[]' });
  const toPredict = [cookie('test/good', 0), cookie('test/defect', 5)];
  // A prediction upload as the SDK sends it: training=false and no `good` field.
  const predictIds: string[] = (await api.upload(toPredict, { training: 'false' })).body.data.item_ids;

  const listed = await api.get('/api/v1/items');
  assertFills(listed, ItemsData, true);
  // The original's training items were done and active, with their label as an override.
  const training = listed.body.data.training;
  assert.ok(training.every((item: any) => item.status === 'done' && item.active === true), JSON.stringify(training));
  assert.deepEqual(training.find((item: any) => item.item_id === 'anomaly-1').override, { label: 'NG', result: 'defect', detected_objects: null, detection_accuracy: null });

  // The image id SetAnnotations needs comes from GetItem, which reads the EXIF: ColorSpace is the EXIF integer.
  const ngItem = await getItem('anomaly-1', false);
  assertFills(ngItem, Item, true);
  const image = ngItem.body.data.images[0];
  assert.ok([1, 65535].includes(image.exif_metadata.ColorSpace), JSON.stringify(image.exif_metadata));
  assert.equal(image.exif_metadata.Make, 'Apple');
  assert.deepEqual(image.exif_metadata.XResolution, [72, 1]);
  assert.equal(image.key.length, 64);
  assert.deepEqual([image.batch_id, image.position, image.uploaded, image.is_raw_uploaded, image.processed], ['', '', true, true, true]);

  // Coordinates other clients send as fractions are kept as whole pixels, as the SDK reads them (C# int).
  const annotated = await api.post(`/api/v1/image/${image.image_id}/annotation`, {
    annotations: [{ x_min: 100.4, x_max: 200.5, y_min: 150, y_max: 260, notes: 'crack' }, { x_min: 10, x_max: 40, y_min: 10, y_max: 40, notes: null }],
  });
  assertFills(annotated, { status: 'string' });
  const withBoxes = await getItem('anomaly-1', true);
  assertFills(withBoxes, Item, true);
  const boxes = withBoxes.body.data.images[0].annotations;
  assert.deepEqual(boxes.map((a: any) => [a.x_min, a.x_max, a.y_min, a.y_max, a.for_training]), [[100, 201, 150, 260, true], [10, 40, 10, 40, true]]);
  assert.equal(withBoxes.body.data.images[0].defects, 2);
  assertError(await api.post('/api/v1/image/999999/annotation', { annotations: [] }), 400, 'Cannot find image', null, '/api/v1/image/999999/annotation');

  const algorithms = await api.get('/api/v1/algorithms');
  assertFills(algorithms, 'Algorithm[]');

  // Train(…, null) sends override_params null: no overrides. Deleted at once (DeleteModels' success answer).
  const withoutOverrides = await api.post('/api/v1/train', { algorithm_id: 'OC', name: 'no-overrides', override_params: null, item_ids: null });
  assertFills(withoutOverrides, TrainData);
  assertFills(await api.request('DELETE', '/api/v1/model', { model_ids: [String(withoutOverrides.body.data.model_id)] }), { status: 'string' });

  // The original's published parameter ids (OC: 249 patch_size, 252 nu_max) train, beside Kensa's own.
  const trained = await api.post('/api/v1/train', {
    algorithm_id: 'OC', name: 'original-ids', item_ids: [...good, ...defect].map((f) => f.name.replace(/\.jpg$/, '')),
    override_params: [
      { algorithm_parameter_id: 249, value: '[8, 8]' }, { algorithm_parameter_id: 252, value: '0.2' },
      { algorithm_parameter_id: await parameterId(api, 'OC', 'working_size'), value: '64' },
    ],
  });
  assertFills(trained, TrainData);
  // Not serving yet, but the model its target will serve once trained (the original's context default).
  assert.deepEqual([trained.body.data.status, trained.body.data.active, trained.body.data.context_default], ['creating', false, true]);
  assert.equal(trained.body.data.context_id, trained.body.data.target_id);
  const model = await api.waitForModel(trained.body.data.model_id);
  assert.deepEqual([model.status, model.active, model.context_default], ['active', true, true], model.status_text);
  assert.deepEqual(
    model.parameters.filter((p: any) => ['min_inspection_size', 'nu_max'].includes(p.name)).map((p: any) => [p.name, p.value]),
    [['min_inspection_size', '[8, 8]'], ['nu_max', '0.2']],
  );
  const models = await api.get('/api/v1/models');
  assertFills(models, 'ModelData[]');
  assert.match(models.body.data[0].image_url, /\/api\/v1\/images\/\d+\/thumbnail\?token=/);

  // Serve as the SDK sends it without a model id ("" = the active model), and its documented errors.
  const served = await api.post('/api/v1/serve', { item_ids: predictIds, model_id: '' });
  assertFills(served, { item_ids: 'string[]', model_version: 'string' });
  assertError(await api.post('/api/v1/serve', { item_ids: ['no-such-item'], model_id: '' }), 404, 'Cannot find items', null, '/api/v1/serve');
  await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'carol', clientSecret: 'carol-secret' });
  const carol = await new Api(server.url).login('carol', 'carol-secret');
  assertError(await carol.post('/api/v1/train', { algorithm_id: 'OC', name: 'x', override_params: [] }), 403, 'Invalid license!', 'No active license', '/api/v1/train');
  const bob = await new Api(server.url).login('bob', 'bob-secret');
  await bob.upload([cookie('test/good', 1)], { training: 'false' });
  assertError(await bob.post('/api/v1/serve', { item_ids: [cookie('test/good', 1).name.replace(/\.jpg$/, '')], model_id: '' }), 400, 'There is no available model', null, '/api/v1/serve');
  assertFills(await api.get('/api/v1/workers'), { training: 'string[]', predicting: 'string[]' });
  await api.waitForItems(predictIds);

  for (const itemId of predictIds) {
    const predicted = await getItem(itemId, true);
    assertFills(predicted, Item, true);
    const [assessment] = predicted.body.data.models[0].assessments;
    assert.equal(predicted.body.data.models[0].assessments.length, 1);
    // The original's image counted what the prediction found (a key its answers had beyond the SDK's classes).
    assert.equal(predicted.body.data.images[0].defect_counted, assessment.computed.detected_objects);
  }
  const afterPredict = await api.get('/api/v1/items');
  assertFills(afterPredict, ItemsData, true);
  // The original's accuracy is an integer percentage, 0 before any result is confirmed.
  assert.deepEqual(afterPredict.body.data.summary.predict_stats.map((s: any) => s.accuracy), [0]);
  assert.ok(afterPredict.body.data.predict.every((item: any) => item.models[0].assessments.length === 1));
  await api.request('PATCH', `/api/v1/item/${predictIds[0]}`, { good: true });
  await api.request('PATCH', `/api/v1/item/${predictIds[1]}`, { good: true });
  const confirmed = (await api.get('/api/v1/items')).body.data.summary.predict_stats[0];
  assert.equal(confirmed.accuracy, Math.round(((confirmed.confirmed_count - confirmed.adjusted_count) / confirmed.confirmed_count) * 100));

  // DeleteModels: an unknown id, also one that is no number, is the original's 404.
  for (const ids of [['999999'], ['no-such-model']]) {
    assertError(await api.request('DELETE', '/api/v1/model', { model_ids: ids }), 404, '', 'No model found', '/api/v1/model');
  }
  // The license route under the original's path: a file that is no license is refused as there.
  const form = new FormData();
  form.append('license', new Blob(['not a license']), 'license0');
  assertError(await api.request('POST', '/api/auth/license', undefined, { form }), 403, 'Invalid license!', 'The file is not a Kensa license', '/api/auth/license');
});
