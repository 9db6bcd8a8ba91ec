import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeForModel, predictImage, predictRaster, trainModel } from '../src/engine.ts';
import { boxesInTile, decodeForTiles, foldsByImage, stitchTileMaps, tileLayout, trainingTiles } from '../src/image/tiles.ts';
import { Random } from '../src/kernels/random.ts';
import type { TrainingSample } from '../src/algorithms/types.ts';

test('tile layout covers the scaled image with overlapping tiles of working size', () => {
  const layout = tileLayout(4032, 3024, 512, 256);
  assert.equal(layout.scale, 0.5);
  assert.equal(layout.width, 2016);
  assert.equal(layout.height, 1512);
  const covered = new Uint8Array(layout.width * layout.height);
  for (const t of layout.tiles) {
    assert.equal(t.width, 256);
    assert.equal(t.height, 256);
    assert.ok(t.x >= 0 && t.y >= 0 && t.x + t.width <= layout.width && t.y + t.height <= layout.height);
    for (let y = t.y; y < t.y + t.height; y++) covered.fill(1, y * layout.width + t.x, y * layout.width + t.x + t.width);
  }
  assert.ok(covered.every((c) => c === 1), 'every pixel lies in some tile');
  // neighbours overlap: consecutive x starts are less than a tile apart
  const xs = [...new Set(layout.tiles.map((t) => t.x))].sort((a, b) => a - b);
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i] - xs[i - 1] < 256 && xs[i] > xs[i - 1]);
});

test('an image smaller than a tile is one tile, never enlarged', () => {
  const layout = tileLayout(300, 200, 512, 256);
  assert.equal(layout.scale, 0.5);
  assert.deepEqual(layout.tiles, [{ x: 0, y: 0, width: 150, height: 100 }]);
  const native = tileLayout(300, 200, 128, 256);
  assert.equal(native.scale, 1);
  assert.equal(native.width, 300);
});

test('boxes are clipped into the tiles they overlap, in tile pixels', () => {
  const layout = tileLayout(1000, 1000, 400, 200); // scale 0.5, tiles of 200 every 150
  const box = { x_min: 380, y_min: 20, x_max: 420, y_max: 60 }; // scaled: x 190..210, y 10..30
  const first = layout.tiles.find((t) => t.x === 0 && t.y === 0)!;
  const second = layout.tiles.find((t) => t.x === 150 && t.y === 0)!;
  const far = layout.tiles.find((t) => t.x === 300 && t.y === 0)!;
  assert.deepEqual(boxesInTile([box], layout, first), [{ x_min: 190, y_min: 10, x_max: 200, y_max: 30 }]);
  assert.deepEqual(boxesInTile([box], layout, second), [{ x_min: 40, y_min: 10, x_max: 60, y_max: 30 }]);
  assert.deepEqual(boxesInTile([box], layout, far), []);
});

test('stitching keeps the highest value where tiles overlap', () => {
  const layout = tileLayout(10, 4, 6, 6); // scale 1, tiles x = 0, 4 (stride 4), width 6
  const pixels = { width: 10, height: 4, data: new Uint8Array(10 * 4 * 3), maxValue: 255 };
  let call = 0;
  const map = stitchTileMaps(layout, pixels, (raster) => {
    const value = ++call; // first tile 1, second 2
    return { width: raster.width, height: raster.height, data: new Float32Array(raster.width * raster.height).fill(value) };
  });
  assert.equal(layout.tiles.length, 2);
  assert.deepEqual(Array.from(map.data.subarray(0, 10)), [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
});

test('training tiles: labels from boxes, whole images per cross-fitting fold, memory-capped', async () => {
  const png = (shade: number) => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: shade, g: shade, b: shade } } }).png().toBuffer();
  const images = [
    ...await Promise.all([10, 20, 30, 40].map(async (s) => ({ bytes: await png(s), good: true as const }))),
    { bytes: await png(50), good: false as const, boxes: [{ x_min: 10, y_min: 10, x_max: 30, y_max: 30 }] },
    { bytes: await png(60), good: false as const }, // NG without boxes: which tile is bad is unknown
  ];
  const perImage = tileLayout(300, 200, 128, 64).tiles.length; // scale 0.5: 150×100 in tiles of 64
  assert.equal(perImage, 6);
  const samples = await trainingTiles(images, 128, 64, 0);
  assert.equal(samples.length, 6 * perImage);
  const ofImage = (k: number) => samples.slice(k * perImage, (k + 1) * perImage);
  for (const sample of ofImage(0)) assert.ok(sample.good === true && (await sample.load()).width === 64);
  assert.deepEqual(ofImage(4).map((s) => s.good), [false, true, true, true, true, true], 'only the tile with the box is NG');
  assert.deepEqual(ofImage(4)[0].boxes, [{ x_min: 5, y_min: 5, x_max: 15, y_max: 15 }]);
  assert.ok(ofImage(5).every((s) => s.good === null));
  const folds = foldsByImage(samples, new Random(1))!;
  for (let k = 0; k < 5; k++) assert.equal(new Set(ofImage(k).map((s) => folds.get(s))).size, 1, `image ${k} in one fold`);
  assert.deepEqual(new Set([0, 1, 2, 3].map((k) => folds.get(ofImage(k)[0]))), new Set([0, 1]), 'OK images in both folds');
  assert.ok(ofImage(5).every((s) => !folds.has(s)), 'unlabelled tiles are never held out');
  assert.equal(foldsByImage(samples.map((s) => ({ ...s })), new Random(1)), null, 'plain samples: no tile folds');
  // a budget of 10 float tiles keeps 10 (a seeded choice) plus the NG tile, which is always kept
  const capped = await trainingTiles(images, 128, 64, 0, undefined, 10 * 64 * 64 * 3 * 4);
  assert.ok(capped.length <= 11 && capped.length >= 10, `${capped.length} tiles kept`);
  assert.equal(capped.filter((s) => s.good === false).length, 1);
  const again = await trainingTiles(images, 128, 64, 0, undefined, 10 * 64 * 64 * 3 * 4);
  const firstValues = (samples: TrainingSample[]) => Promise.all(samples.map(async (s) => (await s.load()).data[0]));
  assert.deepEqual(await firstValues(again), await firstValues(capped), 'the same seed keeps the same tiles');
});

/** A 4000×3000 grey-brown surface with fine noise; `defect` paints a dark 14×38 mark. */
async function factoryPhoto(seed: number, defect: { x: number; y: number } | null): Promise<Uint8Array> {
  const width = 4000, height = 3000;
  const random = new Random(seed);
  const data = Buffer.alloc(width * height * 3);
  const base = 140 + random.int(6);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      const v = base + 10 * Math.sin(x / 310) * Math.cos(y / 270) + (random.next() - 0.5) * 24;
      data[i] = v + 12;
      data[i + 1] = v;
      data[i + 2] = v - 15;
    }
  }
  if (defect) {
    for (let y = defect.y; y < defect.y + 38; y++) {
      for (let x = defect.x; x < defect.x + 14; x++) data.fill(45, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

test('tiling finds a 14×38 defect in a 4000×3000 photo and boxes it in original pixels', async () => {
  const training = [];
  for (let s = 1; s <= 4; s++) training.push({ bytes: await factoryPhoto(s, null), good: true });
  const params = { tile_size: 768, working_size: 256 };
  const tiles = await trainingTiles(training, 768, 256, 0);
  assert.equal(tiles.length, 4 * tileLayout(4000, 3000, 768, 256).tiles.length);
  const decoded = await decodeForTiles(training[0].bytes, 768, 256);
  assert.ok(decoded.pixels.data instanceof Uint8Array, 'the decoded photo stays 8-bit');
  assert.equal(decoded.pixels.data.length, decoded.layout.width * decoded.layout.height * 3);

  const model = await trainModel('PM', training, params);
  const defect = { x: 2711, y: 1234 };
  const ng = await predictImage(model, await factoryPhoto(99, defect));
  assert.equal(ng.label, 'NG');
  const top = ng.boxes[0];
  assert.ok(top, 'a box is reported');
  const overlaps = top.x_min < defect.x + 14 && top.x_max > defect.x && top.y_min < defect.y + 38 && top.y_max > defect.y;
  assert.ok(overlaps, `top box ${JSON.stringify(top)} overlaps the defect at ${JSON.stringify(defect)}`);
  assert.ok(top.x_max - top.x_min < 200 && top.y_max - top.y_min < 200, `box ${JSON.stringify(top)} is tight, in original pixels`);

  const ok = await predictImage(model, await factoryPhoto(98, null));
  const reduced = await decodeForModel(training[0].bytes, 256);
  assert.throws(() => predictRaster(model, reduced.raster, reduced.info), /tile/, 'a reduced whole image is refused by a tiled model');
  assert.ok(ok.score < ng.score, `good photo scores ${ok.score}, defective ${ng.score}`);

  // The same data reduced to 256 pixels without tiling: the defect is under a pixel and scores far lower.
  const untiled = await trainModel('PM', training, { working_size: 256 });
  const blind = await predictImage(untiled, await factoryPhoto(99, defect));
  assert.ok(blind.score < ng.score, `untiled score ${blind.score} < tiled ${ng.score}`);
});
