#!/usr/bin/env node
/**
 * Writes docs/api.md from the server's OpenAPI document (built in-process from the route schemas, so the
 * reference lists exactly the routes the server has). Each route gets a sample request in curl, TypeScript
 * (@kensa/sdk) and Python (clients/python), a sample response made from its response schema, and its errors.
 * `packages/server/test/docs-api.test.ts` fails when the committed file differs from a fresh rendering.
 *
 *   node --import tsx scripts/generate-api-docs.ts           # rewrite docs/api.md
 *   node --import tsx scripts/generate-api-docs.ts --check   # exit 1 if it is stale
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '@kensa/server';
import { headingAnchor } from './generate-docs.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
export const API_DOC_FILE = resolve(REPO_ROOT, 'docs/api.md');

type Schema = Record<string, any>;
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Schema>>;
  components: { schemas?: Record<string, Schema> };
}

/** The OpenAPI document of a server over a throw-away data folder (no port is opened). */
export async function buildOpenApiDocument(): Promise<OpenApiDocument> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kensa-openapi-'));
  try {
    const { app } = await buildApp({ dataDir, workers: 1, webDist: null });
    try {
      await app.ready();
      return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
    } finally {
      await app.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface ClientSamples { curl: string; ts: string; py: string }

const AUTH = '-H "Authorization: Bearer $TOKEN"';
const NO_PY = '# not in the Python SDK: use requests/urllib against the route';

/**
 * Client calls per route, written by hand because they are the SDKs' method names; a route missing here makes
 * the generator fail, so a new route cannot go undocumented.
 */
const SAMPLES: Record<string, ClientSamples> = {
  'POST /api/auth/token': {
    curl: `curl -X POST $KENSA/api/auth/token -H 'Content-Type: application/json' \\\n  -d '{"client_id": "demo", "client_secret": "demo-secret"}'`,
    ts: `const sdk = new VisualInspectionSDK({ apiUrl: 'http://127.0.0.1:8080/api', clientId: 'demo', clientSecret: 'demo-secret' });\nconst { access_token } = await sdk.authorize();`,
    py: `sdk = VisualInspectionSDK("demo", "demo-secret", "http://127.0.0.1:8080/api")  # authorizes here\nsdk.authorize()`,
  },
  'GET /api/auth/app_version': {
    curl: `curl $KENSA/api/auth/app_version`, ts: `await sdk.getVersionNumber();`, py: `sdk.get_version_number()`,
  },
  'GET /api/health': {
    curl: `curl $KENSA/api/health`, ts: `const { status, jobs } = await sdk.getHealth();`, py: `sdk.get_health()["jobs"]["queued"]`,
  },
  'POST /api/v1/license': {
    curl: `curl -X POST $KENSA/api/v1/license ${AUTH} -F license=@demo.license`,
    ts: `await sdk.activateLicense('demo.license');`, py: `sdk.activate_license("demo.license")`,
  },
  'POST /api/auth/license': {
    curl: `curl -X POST $KENSA/api/auth/license ${AUTH} -F license=@demo.license`,
    ts: `await sdk.activateLicense('demo.license'); // the SDK uses /api/v1/license`, py: `sdk.activate_license("demo.license")  # /api/v1/license`,
  },
  'GET /api/v1/license': {
    curl: `curl $KENSA/api/v1/license ${AUTH}`,
    ts: `const { status, expires_at, limits, usage } = await sdk.getLicense();`, py: `sdk.get_license()["status"]`,
  },
  'GET /api/v1/items': {
    curl: `curl "$KENSA/api/v1/items?status=done&limit=50" ${AUTH}`,
    ts: `const items = await sdk.getItems({ status: 'done', limit: 50 });`, py: `items = sdk.get_items(status="done", limit=50)`,
  },
  'GET /api/v1/item/{item_id}': {
    curl: `curl "$KENSA/api/v1/item/part-0042?show_annotations=true&show_assessments=true" ${AUTH}`,
    ts: `const item = await sdk.getItem('part-0042', { showAnnotations: true, showAssessments: true });`, py: `item = sdk.get_item("part-0042")`,
  },
  'PATCH /api/v1/item/{item_id}': {
    curl: `curl -X PATCH $KENSA/api/v1/item/part-0042 ${AUTH} -H 'Content-Type: application/json' -d '{"good": false}'`,
    ts: `await sdk.reviewItem('part-0042', false);   // or sdk.archiveItem('part-0042')`, py: `sdk.review_item("part-0042", False)`,
  },
  'DELETE /api/v1/item/{item_id}': {
    curl: `curl -X DELETE $KENSA/api/v1/item/part-0042 ${AUTH}`, ts: `await sdk.deleteItem('part-0042');`, py: `sdk.delete_item("part-0042")`,
  },
  'POST /api/v1/upload': {
    curl: `curl -X POST $KENSA/api/v1/upload ${AUTH} \\\n  -F training=true -F good=true -F 'files[0]=@normal-1.jpg' -F 'files[1]=@normal-2.jpg'`,
    ts: `const { item_ids } = await sdk.upload(['normal-1.jpg', 'normal-2.jpg'], true);`,
    py: `item_ids = sdk.upload(["normal-1.jpg", "normal-2.jpg"], True)["item_ids"]`,
  },
  'POST /api/v1/inspect': {
    curl: `curl -X POST $KENSA/api/v1/inspect ${AUTH} -F 'files[0]=@part-0042.jpg'`,
    ts: `const result = await sdk.inspect(['part-0042.jpg']);`, py: `result = sdk.inspect(["part-0042.jpg"])`,
  },
  'POST /api/v1/image/{image_id}/annotation': {
    curl: `curl -X POST $KENSA/api/v1/image/17/annotation ${AUTH} -H 'Content-Type: application/json' \\\n  -d '{"annotations": [{"x_min": 10, "x_max": 40, "y_min": 12, "y_max": 30}]}'`,
    ts: `await sdk.setAnnotations([{ x_min: 10, x_max: 40, y_min: 12, y_max: 30 }], 17);`,
    py: `sdk.set_annotations([{"x_min": 10, "x_max": 40, "y_min": 12, "y_max": 30}], 17)`,
  },
  'GET /api/v1/images/{image_id}/{kind}': {
    curl: `curl -o overlay.png $KENSA/api/v1/images/17/overlay ${AUTH}`,
    ts: `const png = await sdk.downloadFile(item.images[0].url);`, py: `png = sdk.download_file(item["images"][0]["url"])`,
  },
  'GET /api/v1/images/inspect/{heatmap_id}': {
    curl: `curl -o heatmap.png "$HEATMAP_URL"  # a heatmap_url from POST /v1/inspect with heatmap=true`,
    ts: `const png = await sdk.downloadFile(result.heatmap_url);`, py: `png = sdk.download_file(result["heatmap_url"])`,
  },
  'GET /api/v1/algorithms': { curl: `curl $KENSA/api/v1/algorithms ${AUTH}`, ts: `await sdk.getAlgorithms();`, py: `sdk.get_algorithms()` },
  'GET /api/v1/models': { curl: `curl $KENSA/api/v1/models ${AUTH}`, ts: `await sdk.getModels();`, py: `sdk.get_models()` },
  'GET /api/v1/models/{model_id}': { curl: `curl $KENSA/api/v1/models/3 ${AUTH}`, ts: `await sdk.getModel(3);`, py: `sdk.get_model(3)` },
  'PATCH /api/v1/models/{model_id}': {
    curl: `curl -X PATCH $KENSA/api/v1/models/3 ${AUTH} -H 'Content-Type: application/json' \\\n  -d '{"override_params": [{"algorithm_parameter_id": 12, "value": "0.6"}]}'`,
    ts: `await sdk.updateModel(3, await sdk.resolveParameters("PS", { threshold: 0.6 }))`, py: `sdk.update_model(3, params={"threshold": 0.6})`,
  },
  'POST /api/v1/models/{model_id}/export': {
    curl: `curl -X POST -o model.kensa $KENSA/api/v1/models/3/export ${AUTH}`, ts: `const bytes = await sdk.exportModel(3);`, py: `data = sdk.export_model(3)`,
  },
  'POST /api/v1/models/import': {
    curl: `curl -X POST $KENSA/api/v1/models/import ${AUTH} -F model=@model.kensa`, ts: `await sdk.importModel('model.kensa');`, py: `sdk.import_model("model.kensa")`,
  },
  'DELETE /api/v1/model': {
    curl: `curl -X DELETE $KENSA/api/v1/model ${AUTH} -H 'Content-Type: application/json' -d '{"model_ids": [3]}'`,
    ts: `await sdk.deleteModels([3]);`, py: `sdk.delete_models([3])`,
  },
  'POST /api/v1/train': {
    curl: `curl -X POST $KENSA/api/v1/train ${AUTH} -H 'Content-Type: application/json' \\\n  -d '{"algorithm_id": "PM", "name": "cookies-v1"}'`,
    ts: `const model = await sdk.train('PM', 'cookies-v1', { working_size: 128 });`, py: `model = sdk.train("PM", "cookies-v1")`,
  },
  'POST /api/v1/serve': {
    curl: `curl -X POST $KENSA/api/v1/serve ${AUTH} -H 'Content-Type: application/json' -d '{"item_ids": ["part-0042"]}'`,
    ts: `await sdk.serve(['part-0042']);`, py: `sdk.serve(["part-0042"])`,
  },
  'GET /api/v1/workers': { curl: `curl $KENSA/api/v1/workers ${AUTH}`, ts: `await sdk.getProcesses();`, py: `sdk.get_processes()` },
  'GET /api/v1/events': {
    curl: `curl -N $KENSA/api/v1/events ${AUTH}`,
    ts: `const events = new EventSource(\`\${apiUrl}/v1/events?token=\${mediaToken}\`);   // browsers; waitForModel polls instead`,
    py: NO_PY,
  },
  'POST /api/v1/callbacks': {
    curl: `curl -X POST $KENSA/api/v1/callbacks ${AUTH} -H 'Content-Type: application/json' -d '{"url": "https://line.example/kensa"}'`,
    ts: `const { secret } = await sdk.registerCallback('https://line.example/kensa');`, py: `secret = sdk.register_callback("https://line.example/kensa")["secret"]`,
  },
  'GET /api/v1/callbacks': { curl: `curl $KENSA/api/v1/callbacks ${AUTH}`, ts: `await sdk.getCallbacks();`, py: `sdk.get_callbacks()` },
  'GET /api/v1/callbacks/{callback_id}/deliveries': {
    curl: `curl $KENSA/api/v1/callbacks/1/deliveries ${AUTH}`, ts: `await sdk.getCallbackDeliveries(1);`, py: `sdk.get_callback_deliveries(1)`,
  },
  'DELETE /api/v1/callbacks/{callback_id}': {
    curl: `curl -X DELETE $KENSA/api/v1/callbacks/1 ${AUTH}`, ts: `await sdk.deleteCallback(1);`, py: `sdk.delete_callback(1)`,
  },
  'POST /api/v1/samples': {
    curl: `curl -X POST $KENSA/api/v1/samples ${AUTH} -H 'Content-Type: application/json' -d '{"product": "metal"}'`,
    ts: `const job = await sdk.createSampleProject(); await sdk.waitForSampleProject(job.job_id)`,
    py: `job = sdk.create_sample_project(product="metal")`,
  },
  'GET /api/v1/samples': { curl: `curl $KENSA/api/v1/samples ${AUTH}`, ts: `await sdk.getSampleProjects()`, py: `sdk.get_sample_projects()` },
  'GET /api/v1/samples/{job_id}': { curl: `curl $KENSA/api/v1/samples/$JOB_ID ${AUTH}`, ts: `await sdk.getSampleProject(jobId)`, py: `sdk.wait_for_sample_project(job["job_id"])` },
  'GET /api/v1/targets': { curl: `curl $KENSA/api/v1/targets ${AUTH}`, ts: `await sdk.getTargets();`, py: `sdk.get_targets()` },
  'POST /api/v1/targets': {
    curl: `curl -X POST $KENSA/api/v1/targets ${AUTH} -H 'Content-Type: application/json' -d '{"name": "Line 2"}'`,
    ts: `await sdk.createTarget('Line 2');`, py: `sdk.create_target("Line 2")`,
  },
  'DELETE /api/v1/targets/{target}': {
    curl: `curl -X DELETE $KENSA/api/v1/targets/2 ${AUTH}`, ts: `await sdk.deleteTarget('Line 2');`, py: `sdk.delete_target("Line 2")`,
  },
  'GET /api/v1/items/rows': {
    curl: `curl "$KENSA/api/v1/items/rows?target=2&limit=1000" ${AUTH}`,
    ts: `const page = await sdk.getItemRows({ target: 2, limit: 1000 });   // page.next_cursor → { cursor }`, py: NO_PY,
  },
  'POST /api/v1/items/bulk': {
    curl: `curl -X POST $KENSA/api/v1/items/bulk ${AUTH} -H 'Content-Type: application/json' -d '{"item_ids": ["lot-001", "lot-002"], "action": "label", "good": false}'`,
    ts: `await sdk.labelItems(['lot-001', 'lot-002'], false);   // archiveItems(ids), moveItems(ids, target)`, py: NO_PY,
  },
  'GET /api/v1/preferences': { curl: `curl $KENSA/api/v1/preferences ${AUTH}`, ts: `await sdk.getPreferences();`, py: NO_PY },
  'PUT /api/v1/preferences': {
    curl: `curl -X PUT $KENSA/api/v1/preferences ${AUTH} -H 'Content-Type: application/json' -d '{"target_id": 2}'`,
    ts: `await sdk.setPreferences({ target_id: 2 });`, py: NO_PY,
  },
  'GET /api/v1/models/{model_id}/evaluation': {
    curl: `curl $KENSA/api/v1/models/7/evaluation ${AUTH}`, ts: `const { held_out } = await sdk.getModelEvaluation(7);`, py: NO_PY,
  },
  'GET /api/v1/audit/predictions': {
    curl: `curl -o audit.csv "$KENSA/api/v1/audit/predictions?target=2&from=2026-12-01&to=2026-12-31" ${AUTH}`,
    ts: `const csv = await sdk.exportAuditCsv({ target: 2, from: '2026-12-01', to: '2026-12-31' });   // getAuditPredictions: JSON`, py: NO_PY,
  },
};

/** What each error status means across the API (titles come from the i18n catalogues, in the reader's language). */
const STATUS_MEANING: Record<string, string> = {
  '400': 'the request is malformed: a field missing, of the wrong type or out of range (`source.pointer` names it)',
  '401': 'no token, an expired or invalid token, or wrong client credentials',
  '403': 'no active license, or a license limit reached',
  '404': 'a named item, image, model, target or callback does not exist for this client',
  '409': 'the request conflicts with what is stored (a target that still has items or models, the default target)',
  '413': 'a file over 50 MB or more than 200 files in one request',
};

const MAX_SAMPLE_DEPTH = 6;

/** A sample value built from a schema: its example or default if any, else a placeholder of its type. */
export function sampleOf(schema: Schema | undefined, doc: OpenApiDocument, name = '', depth = 0): unknown {
  if (!schema || depth > MAX_SAMPLE_DEPTH) return null;
  if (schema.$ref) return sampleOf(resolveRef(schema.$ref, doc), doc, name, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return sampleOf(variants.find((v: Schema) => !(v.enum && v.enum[0] === null)) ?? variants[0], doc, name, depth + 1);
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries<Schema>(schema.properties ?? {})) out[key] = sampleOf(value, doc, key, depth + 1);
      return out;
    }
    case 'array': return [sampleOf(schema.items, doc, name, depth + 1)];
    case 'integer': return name.endsWith('_id') || name === 'id' ? 1 : 0;
    case 'number': return 0.5;
    case 'boolean': return true;
    case 'string':
      if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
      return name ? `<${name}>` : 'string';
    default: return schema.nullable ? null : {};
  }
}

function resolveRef(ref: string, doc: OpenApiDocument): Schema | undefined {
  const name = ref.replace(/^#\/components\/schemas\//, '');
  return doc.components.schemas?.[name];
}

function typeOf(schema: Schema, doc: OpenApiDocument): string {
  if (schema.$ref) return String(schema.$ref).split('/').pop()!;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((v: Schema) => (v.enum && v.enum[0] === null ? 'null' : typeOf(v, doc))).join(' \\| ');
  if (schema.type === 'array') return `${schema.items ? typeOf(schema.items, doc) : 'any'}[]`;
  const range = [schema.minimum !== undefined ? `≥ ${schema.minimum}` : '', schema.maximum !== undefined ? `≤ ${schema.maximum}` : '',
    schema.maxLength !== undefined ? `≤ ${schema.maxLength} chars` : ''].filter(Boolean).join(', ');
  const base = schema.enum ? schema.enum.map((e: unknown) => `\`${String(e)}\``).join(' / ') : String(schema.type ?? 'any');
  return range ? `${base} (${range})` : base;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');

function fieldRows(rows: Array<{ name: string; where: string; schema: Schema; required: boolean; description?: string }>, doc: OpenApiDocument): string[] {
  if (rows.length === 0) return [];
  return [
    '| field | in | type | required | meaning |', '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.name}\` | ${r.where} | ${typeOf(r.schema, doc)} | ${r.required ? 'yes' : ''} | ${cell(r.description ?? r.schema.description ?? '')} |`),
    '',
  ];
}

/**
 * What Kensa sends so that the original service's clients (its C# SDK reads every answer into typed classes) keep
 * working: the original's key paths and JSON types, with a neutral value of the right type where Kensa has no
 * real one. `packages/server/test/csharp-contract.test.ts` checks every answer against the C# SDK's models.
 */
const ORIGINAL_CLIENTS = [
  '## Fields kept for the original\'s clients', '',
  'Answers keep the original service\'s key paths and JSON types (its C# SDK reads them into typed classes), with Kensa\'s',
  'own fields alongside. Where Kensa has no real value for an original field, it sends a neutral value of the right type,',
  'never a missing key:', '',
  '| field | value |', '|---|---|',
  '| items: `active` | always `true` (Kensa archives items instead: `archived`) |',
  '| items: `override` | a person\'s verdict `{label, result, detected_objects: null, detection_accuracy: null}` (a review, or a training item\'s label), else `null` |',
  '| items: `status` | training items are `"done"` from their upload; predict items `"pending"` until predicted |',
  '| items in `GET /items`: `models[].assessments` | every assessment of the model, as in `GET /item/{id}` |',
  '| images: `batch_id`, `position` | `""` (no upload batches or camera positions in Kensa) |',
  '| images: `key` | the SHA-256 of the file; `uploaded`, `is_raw_uploaded`: `true` |',
  '| images: `defects` | the number of annotation boxes on the image; `defect_counted`: the boxes the newest prediction found (0 before one); `processed`: predicted, or part of a training item |',
  '| images: `exif_metadata` | the image\'s EXIF as the original wrote it: IFD0 and Exif tags by name (`Make`, `Model`, `DateTime`, …), numbers as integers, rationals as `[numerator, denominator]`, undefined bytes as text, `GPSInfo` by tag number; `ColorSpace` is always there, the EXIF integer (1 sRGB, 65535 uncalibrated; from the colour space when the file has no EXIF). Tags the file lacks are left out, as the original did. `Density` is Kensa\'s (pixels per inch) |',
  '| annotations: `x_min`, `x_max`, `y_min`, `y_max` | integers: coordinates sent with fractions are rounded to whole pixels when stored |',
  '| annotations: `for_training` | `true`: training uses every box a person draws |',
  '| assessments: `annotations[]` | the detected boxes in the annotation shape: `annotation_id` 0, `notes` null, `for_training` false, plus `score` |',
  '| summary: `predict_stats[].accuracy` | an integer percentage of confirmed results a person kept, rounded; `0` while none is confirmed |',
  '| models: `context_id` | the model\'s `target_id` (the original called targets contexts); `image_url`: the thumbnail of the first image it learnt from, or null |',
  '| models: `context_default` | the model its target serves once every training has finished: the newest that has not failed (`active` marks the one serving now) |',
  '| models: `precision`, `recall` | `stats.precision.projected` and `stats.recall.projected`, where the original\'s train answer put them |',
  '',
  'Dates of items, images, annotations and assessments end in `+00:00`, as the original wrote them (its C# SDK reads that',
  'form as local time, `Z` as UTC); dates of models, algorithms and everything beyond the original end in `Z`, as the',
  'original\'s model dates did.', '',
  '`POST /api/v1/serve` takes a missing, null or empty `model_id` (the C# SDK sends `""`) as the active model. `POST /api/v1/train`',
  'accepts `override_params: null` as none, and the original\'s published parameter ids beside Kensa\'s: OC 249 (`patch_size`,',
  'here `min_inspection_size`) and 252 (`nu_max`). Errors as the original answered them: an annotation for an unknown image is',
  'a 400 "Cannot find image"; `DELETE /api/v1/model` with an unknown id (or one that is no number) a 404 with the title `""` and',
  'the detail "No model found"; train, serve and inspect without an active license a 403 "Invalid license!" with the reason as',
  'detail. `POST /api/auth/license` is the original\'s path of `POST /api/v1/license`. License files themselves are Kensa\'s',
  'own format (signed JSON, see docs/licenses.md): a license of the original service cannot be activated, by design.',
];

/** Heading text of a route: "GET /api/v1/items". */
const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

export function renderApiReference(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: routeKey(method, path), path, op })));
  const missing = operations.filter((o) => !SAMPLES[o.key]).map((o) => o.key);
  if (missing.length) throw new Error(`No client samples for ${missing.join(', ')}: add them to SAMPLES in scripts/generate-api-docs.ts`);
  const stale = Object.keys(SAMPLES).filter((k) => !operations.some((o) => o.key === k));
  if (stale.length) throw new Error(`SAMPLES has routes the server does not: ${stale.join(', ')}`);

  const tags = [...new Set(operations.map((o) => String(o.op.tags?.[0] ?? 'other')))];
  const lines: string[] = [
    '<!-- Generated by scripts/generate-api-docs.ts from the server\'s OpenAPI document: do not edit by hand. -->',
    `# ${doc.info.title} reference (${doc.info.version})`, '',
    doc.info.description ?? '', '',
    'Every sample assumes the server\'s address in `$KENSA` (e.g. `http://127.0.0.1:8080`) and, for `/api/v1/*`, an access',
    'token in `$TOKEN` (from `POST /api/auth/token`). The TypeScript samples use `@kensa/sdk`',
    '(`const sdk = new VisualInspectionSDK({ apiUrl, clientId, clientSecret })`), the Python ones `kensa`',
    '(`sdk = VisualInspectionSDK(client_id, client_secret, api_url)`); both authorize by themselves. Routes marked',
    '"beyond" are not in the original service. The same document is served live at `/api/openapi.json`, with an',
    'interactive page at `/api/docs`.', '',
    '## Errors', '',
    'Errors are `{"errors": {"status", "title", "detail", "source": {"pointer"}}}`; `title` is in English, or in Japanese',
    'with `Accept-Language: ja`.', '',
    '| status | meaning |', '|---|---|',
    ...Object.entries(STATUS_MEANING).map(([status, meaning]) => `| ${status} | ${meaning} |`), '',
    'Sample error:', '', '```json',
    JSON.stringify({ errors: { status: 404, title: 'No match for item_id!', detail: null, source: { pointer: '/item_id' } } }, null, 2),
    '```', '',
    ...ORIGINAL_CLIENTS, '',
    '## Routes', '',
    ...tags.flatMap((tag) => [`- ${tag}: ${operations.filter((o) => (o.op.tags?.[0] ?? 'other') === tag)
      .map((o) => `[\`${o.key}\`](#${headingAnchor(o.key)})`).join(', ')}`]),
    '',
  ];
  for (const tag of tags) {
    lines.push(`## ${tag[0].toUpperCase()}${tag.slice(1)}`, '');
    for (const { key, op } of operations.filter((o) => (o.op.tags?.[0] ?? 'other') === tag)) {
      lines.push(`### ${key}`, '', cell(op.summary ?? ''), '');
      if (op.description) lines.push(op.description, '');
      lines.push(op.security ? 'Needs `Authorization: Bearer <access_token>`.' : 'No token needed.', '');
      const params = (op.parameters ?? []).map((p: Schema) => ({ name: p.name, where: p.in, schema: p.schema ?? {}, required: Boolean(p.required), description: p.description }));
      const bodySchema: Schema | undefined = op.requestBody?.content?.['application/json']?.schema;
      const body = bodySchema?.properties ? Object.entries<Schema>(bodySchema.properties).map(([name, schema]) => ({
        name, where: 'body', schema, required: (bodySchema.required ?? []).includes(name),
      })) : [];
      lines.push(...fieldRows([...params, ...body], doc));
      const samples = SAMPLES[key];
      lines.push('```sh', samples.curl, '```', '', '```ts', samples.ts, '```', '', '```python', samples.py, '```', '');
      const ok = op.responses?.['200'];
      const okContent = ok?.content ?? {};
      const okJson = okContent['application/json']?.schema;
      if (okJson) {
        lines.push('Sample response (shape from the response schema; values are placeholders):', '', '```json', JSON.stringify(sampleOf(okJson, doc), null, 2), '```', '');
      } else {
        const types = Object.keys(okContent);
        lines.push(`Response: ${types.length ? types.map((t) => `\`${t}\``).join(', ') : 'see the summary above'}.`, '');
      }
      const errors = Object.keys(op.responses ?? {}).filter((s) => s !== '200');
      if (errors.length) lines.push(`Errors: ${errors.map((s) => `${s} (${STATUS_MEANING[s] ?? 'see above'})`).join('; ')}.`, '');
    }
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

export async function generateApiReference(): Promise<string> {
  return renderApiReference(await buildOpenApiDocument());
}

async function main(args: string[]): Promise<number> {
  const text = await generateApiReference();
  if (args.includes('--check')) {
    const committed = await readFile(API_DOC_FILE, 'utf8').catch(() => '');
    if (committed !== text) {
      console.error(`${API_DOC_FILE} is stale: run node --import tsx scripts/generate-api-docs.ts`);
      return 1;
    }
    return 0;
  }
  await writeFile(API_DOC_FILE, text);
  console.log(`Wrote ${API_DOC_FILE}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
