/**
 * Synchronous inspect benchmark (not a test): latency of POST /v1/inspect on loopback with autocannon, quoted
 * against the time to decode the same image at the model's working size (issue 6 goal: latency within 3× decode).
 *   node --import tsx packages/server/bench/inspect.bench.ts [seconds=10] [training-images=10]
 * The model: the default algorithm with its default working size, trained on cookie training images. Then, in
 * this process, the time of each stage of one prediction (decode, anomaly map, post-processing, heatmap render),
 * so that the remainder of the HTTP latency is the server's (multipart, temporary file, worker hop, JSON).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  anomalyMapOf, decodeForModel, decodeImage, deserializeModel, detect, detectionSettings, DEFAULT_ALGORITHM_ID, predictImage, renderHeatmap, resizeMap,
} from '@kensa/engine';
import { Api, cookie, spawnServerProcess } from '../test/helpers.ts';

const seconds = Number(process.argv[2] ?? 10);
const trainingImages = Number(process.argv[3] ?? 10);
const dataDir = mkdtempSync(join(tmpdir(), 'kensa-bench-'));
// The server runs in its own process (as under `npm start`), so that autocannon does not share its event loop.
const { url, stop: stopServer } = await spawnServerProcess(dataDir);

/** Median wall time in ms of `runs` calls, after two warm-up calls. */
async function medianMs(runs: number, work: () => unknown): Promise<number> {
  for (let i = 0; i < 2; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

try {
  const api = await new Api(url).login('alice', 'alice-secret');
  const auth = { authorization: `Bearer ${api.token}` };
  await api.upload(Array.from({ length: trainingImages }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const trainStart = Date.now();
  const trained = await api.post('/api/v1/train', { name: 'bench' }); // default algorithm, default parameters
  const modelId: number = trained.body.data.model_id;
  const model = await api.waitForModel(modelId, 600_000);
  if (model.status !== 'active') throw new Error(`training failed: ${JSON.stringify(model)}`);
  const exported = await fetch(`${url}/api/v1/models/${modelId}/export`, { method: 'POST', headers: auth });
  const trainedModel = deserializeModel(new Uint8Array(await exported.arrayBuffer()));
  const workingSize = Number(trainedModel.params.working_size);
  console.log(`model ${trainedModel.algorithm} (default ${DEFAULT_ALGORITHM_ID}), working size ${workingSize}, ` +
    `trained on ${trainingImages} cookies in ${((Date.now() - trainStart) / 1000).toFixed(1)} s`);

  const image = cookie('test/defect', 0);
  const bytes = new Uint8Array(image.bytes);
  const boundary = 'kensa-bench-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="${image.name}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    image.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const check = await fetch(`${url}/api/v1/inspect`, { method: 'POST', body, headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` } });
  if (check.status !== 200) throw new Error(`inspect answered ${check.status}: ${await check.text()}`);
  console.log(`image ${image.name} (${(bytes.length / 1000).toFixed(0)} KB), answer ${JSON.stringify((await check.json()).data.results[0]).slice(0, 160)}…`);

  // Baseline and stages, measured in this process between the two autocannon runs' neighbours.
  const runs = 41;
  const decodeMs = await medianMs(runs, () => decodeImage(bytes, { maxSide: workingSize }));
  const decoded = await decodeForModel(bytes, workingSize);
  const mapMs = await medianMs(runs, () => anomalyMapOf(trainedModel, decoded.raster));
  const map = anomalyMapOf(trainedModel, decoded.raster);
  const settings = detectionSettings(trainedModel);
  const detectMs = await medianMs(runs, () => detect(map, decoded.info, settings));
  const predictMs = await medianMs(runs, () => predictImage(trainedModel, bytes));
  // The same stages timed inside each of a run of whole predictions (stages measured alone above may flatter,
  // e.g. by keeping caches warm): medians per stage.
  const stageTimes = { decode: [] as number[], map: [] as number[], detect: [] as number[] };
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const fresh = await decodeForModel(bytes, workingSize);
    const t1 = process.hrtime.bigint();
    const freshMap = anomalyMapOf(trainedModel, fresh.raster);
    const t2 = process.hrtime.bigint();
    detect(freshMap, fresh.info, settings);
    const t3 = process.hrtime.bigint();
    if (i < 2) continue;
    stageTimes.decode.push(Number(t1 - t0) / 1e6); stageTimes.map.push(Number(t2 - t1) / 1e6); stageTimes.detect.push(Number(t3 - t2) / 1e6);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`within whole predictions: decode ${median(stageTimes.decode).toFixed(1)} ms, map ${median(stageTimes.map).toFixed(1)} ms, ` +
    `post-processing ${median(stageTimes.detect).toFixed(1)} ms`);
  const heatmapMs = await medianMs(11, () => renderHeatmap(resizeMap(map, decoded.info.width, decoded.info.height), settings.threshold, [0, 1]));
  console.log(`decode at working size ${decodeMs.toFixed(1)} ms (median of ${runs}); anomaly map ${mapMs.toFixed(1)} ms; ` +
    `post-processing ${detectMs.toFixed(1)} ms; predictImage ${predictMs.toFixed(1)} ms; ` +
    `heatmap at original size ${heatmapMs.toFixed(1)} ms (not done by /inspect)`);

  for (const connections of [1, 2]) {
    const result = await autocannon({
      url: `${url}/api/v1/inspect`, method: 'POST', body, connections, duration: seconds,
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    console.log(`POST /v1/inspect, ${connections} connection(s): ${result.requests.average.toFixed(1)} req/s, p50 ${result.latency.p50} ms ` +
      `(${(result.latency.p50 / decodeMs).toFixed(1)}× decode), p99 ${result.latency.p99} ms (${(result.latency.p99 / decodeMs).toFixed(1)}× decode), ` +
      `${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  const decodeAfterMs = await medianMs(runs, () => decodeImage(bytes, { maxSide: workingSize }));
  console.log(`decode again after the load: ${decodeAfterMs.toFixed(1)} ms`);
} finally {
  await stopServer();
  rmSync(dataDir, { recursive: true, force: true });
}
