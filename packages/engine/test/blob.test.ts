import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeBlob, encodeBlob, MODEL_FORMAT_VERSION, ModelFormatError } from '../src/model/blob.ts';
import { deserializeModel, serializeModel, trainModel } from '../src/engine.ts';

const tree = () => ({
  name: 'm',
  nested: {
    f32: Float32Array.from([1.5, -2, 3e-8]),
    list: [Uint8Array.from([1, 2, 255]), { deep: Int32Array.from([-7, 2 ** 31 - 1]) }],
    f64: Float64Array.from([Math.PI]),
  },
  u16: Uint16Array.from([65535, 3]),
  u32: Uint32Array.from([2 ** 32 - 1]),
  empty: new Float32Array(0),
  // a view into a larger buffer at an odd offset must be stored as just its own elements
  view: new Uint8Array(new ArrayBuffer(16), 3, 5).fill(9),
  numbers: [0, -1, 0.25, Infinity, -Infinity, NaN],
  flags: [true, false, null],
});

test('a blob round-trips every typed array kind, nested anywhere, and non-finite numbers', () => {
  const original = tree();
  const back = decodeBlob(encodeBlob(original)) as ReturnType<typeof tree>;
  assert.deepEqual(back, original);
  assert.ok(back.nested.f32 instanceof Float32Array);
  assert.ok((back.nested.list[1] as { deep: Int32Array }).deep instanceof Int32Array);
  assert.equal(back.view.length, 5);
  assert.ok(Number.isNaN(back.numbers[5]));
});

function rejectsWith(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeBlob(bytes), (e: unknown) => e instanceof ModelFormatError && pattern.test(e.message));
}

test('corrupted, truncated, foreign and future-format blobs are refused with what is wrong', () => {
  const good = encodeBlob(tree());
  for (const position of [20, Math.floor(good.length / 2), good.length - 40, good.length - 1]) {
    const flipped = new Uint8Array(good);
    flipped[position] ^= 0x01;
    rejectsWith(flipped, /corrupt|checksum/i);
  }
  rejectsWith(good.subarray(0, good.length - 10), /corrupt|truncated/i);
  rejectsWith(new TextEncoder().encode('{"this": "is JSON, not a model"}'.padEnd(64)), /Not a Kensa model/);
  rejectsWith(new Uint8Array(0), /Not a Kensa model/);
  const future = new Uint8Array(good);
  new DataView(future.buffer).setUint32(8, MODEL_FORMAT_VERSION + 1, true);
  rejectsWith(future, /format .* not supported.*retrain/);
});

async function tinyModel() {
  const images = [];
  for (let k = 0; k < 4; k++) {
    const png = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 100 + k, g: 120, b: 90 } } }).png().toBuffer();
    images.push({ bytes: png, good: true });
  }
  return trainModel('PM', images, { working_size: 32 });
}

test('a model of another algorithm version is refused with a clear message', async () => {
  const model = await tinyModel();
  const blob = serializeModel(model);
  const header = decodeBlob(blob);
  const older = encodeBlob({ ...header, algorithmVersion: (model.algorithmVersion as number) + 41 });
  assert.throws(() => deserializeModel(older), (e: unknown) => e instanceof ModelFormatError && /PM version \d+.*retrain/.test(e.message));
  assert.throws(() => deserializeModel(encodeBlob({ kind: 'something-else' })), ModelFormatError);
  const loaded = deserializeModel(blob);
  assert.equal(loaded.algorithm, 'PM');
  assert.deepEqual(loaded.params, model.params);
  assert.deepEqual(loaded.state, model.state);
  assert.deepEqual(loaded.calibration, model.calibration);
  assert.equal(loaded.threshold, model.threshold);
});
