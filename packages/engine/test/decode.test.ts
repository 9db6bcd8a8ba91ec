import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, detectImageFormat, ImageDecodeError, probeImage } from '../src/image/decode.ts';
import type { Raster } from '../src/image/raster.ts';

// A 24×16 test card: left half red (200, 30, 30), right half blue (20, 40, 220).
const W = 24, H = 16;
const LEFT = [200, 30, 30], RIGHT = [20, 40, 220];
function card(): Buffer {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(x < W / 2 ? LEFT : RIGHT, (y * W + x) * 3);
  return data;
}
const raw = () => sharp(card(), { raw: { width: W, height: H, channels: 3 } });

function pixel(raster: Raster, x: number, y: number): number[] {
  const i = (y * raster.width + x) * raster.channels;
  return Array.from(raster.data.subarray(i, i + 3), (v) => Math.round(v * 255));
}
function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  actual.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) <= tolerance, `${what}: ${actual} vs ${expected}`));
}
/** Checks the card's colours away from the edge between halves. */
function assertCard(raster: Raster, tolerance: number, what: string): void {
  assert.equal(raster.width, W);
  assert.equal(raster.height, H);
  assert.equal(raster.channels, 3);
  assertNear(pixel(raster, 2, 8), LEFT, tolerance, `${what} left`);
  assertNear(pixel(raster, W - 3, 8), RIGHT, tolerance, `${what} right`);
}

test('PNG decodes exactly', async () => {
  const bytes = await raw().png().toBuffer();
  const { info, raster } = await decodeImage(bytes);
  assert.equal(info.format, 'png');
  assert.equal(info.contentType, 'image/png');
  assertCard(raster, 0, 'png');
});

test('JPEG and WebP decode close to the source', async () => {
  for (const [format, bytes] of [
    ['jpeg', await raw().jpeg({ quality: 95 }).toBuffer()],
    ['webp', await raw().webp({ quality: 95 }).toBuffer()],
  ] as const) {
    const { info, raster } = await decodeImage(bytes);
    assert.equal(info.format, format);
    assertCard(raster, 12, format);
  }
});

test('16-bit TIFF keeps its precision', async () => {
  const values = new Uint16Array(W * H * 3);
  for (let i = 0; i < values.length; i++) values[i] = 1000 + (i % 3) * 20_000 + 3;
  // a Uint16Array source makes sharp read 16-bit samples
  const bytes = await sharp(values, { raw: { width: W, height: H, channels: 3 } })
    .toColourspace('rgb16').tiff({ compression: 'lzw' }).toBuffer();
  const { info, raster } = await decodeImage(bytes);
  assert.equal(info.format, 'tiff');
  assert.equal(info.bitDepth, 16);
  for (let c = 0; c < 3; c++) {
    const expected = (1000 + c * 20_000 + 3) / 65535;
    // 8 bits would round to the nearest 1/255 (error up to 0.002); 16 bits stay within 1e-5
    assert.ok(Math.abs(raster.data[c] - expected) < 1e-5, `channel ${c}: ${raster.data[c]} vs ${expected}`);
  }
});

test('grey images (8- and 16-bit) come out as three equal channels', async () => {
  const grey8 = await sharp(Buffer.from([0, 60, 120, 180, 240, 255]), { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const grey16 = await sharp(new Uint16Array([0, 6000, 12000, 30000, 50000, 65535]), { raw: { width: 3, height: 2, channels: 1 } })
    .toColourspace('grey16').png().toBuffer();
  const a = await decodeImage(grey8);
  assert.equal(a.info.channels, 1);
  assert.deepEqual(pixel(a.raster, 1, 0), [60, 60, 60]);
  assert.deepEqual(pixel(a.raster, 2, 1), [255, 255, 255]);
  const b = await decodeImage(grey16);
  assert.equal(b.info.bitDepth, 16);
  assert.ok(Math.abs(b.raster.data[3 * 3] - 30000 / 65535) < 1e-5);
  assert.equal(b.raster.data[3 * 3], b.raster.data[3 * 3 + 2]);
});

/** An uncompressed 24-bit BMP, bottom-up rows padded to 4 bytes, as Windows writes it. */
function bmp(pixels: Buffer, width: number, height: number): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * height);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      out[row + x * 3] = pixels[p + 2];
      out[row + x * 3 + 1] = pixels[p + 1];
      out[row + x * 3 + 2] = pixels[p];
    }
  }
  return out;
}

test('BMP decodes exactly, rows in the right order', async () => {
  // width 23 makes rows need padding; a marker pixel on the top row tells up from down
  const width = 23, height = 5;
  const pixels = Buffer.alloc(width * height * 3, 100);
  pixels.set([255, 0, 0], 0); // top-left red
  pixels.set([0, 0, 255], ((height - 1) * width + width - 1) * 3); // bottom-right blue
  const { info, raster } = await decodeImage(bmp(pixels, width, height));
  assert.equal(info.format, 'bmp');
  assert.equal(raster.width, width);
  assert.deepEqual(pixel(raster, 0, 0), [255, 0, 0]);
  assert.deepEqual(pixel(raster, width - 1, height - 1), [0, 0, 255]);
  assert.deepEqual(pixel(raster, 5, 2), [100, 100, 100]);
  const truncated = bmp(pixels, width, height).subarray(0, 200);
  await assert.rejects(decodeImage(truncated), (e: unknown) => e instanceof ImageDecodeError && e.code === 'truncated');
});

test('EXIF orientation is applied: sizes and pixels as the photo is shown', async () => {
  // Orientation 6: the stored image is shown rotated 90° clockwise, so the left (red) half ends on top.
  const bytes = await raw().png().toBuffer().then((png) => sharp(png).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer());
  const info = await probeImage(bytes);
  assert.equal(info.exif.Orientation, 6);
  assert.equal(info.width, H);
  assert.equal(info.height, W);
  const { raster } = await decodeImage(bytes);
  assert.equal(raster.width, H);
  assert.equal(raster.height, W);
  assertNear(pixel(raster, H / 2, 2), LEFT, 12, 'top');
  assertNear(pixel(raster, H / 2, W - 3), RIGHT, 12, 'bottom');
});

test('working size reduces the longest side and keeps the aspect ratio', async () => {
  const bytes = await raw().png().toBuffer();
  const { info, raster } = await decodeImage(bytes, { maxSide: 12 });
  assert.equal(info.width, W); // info is the original's size
  assert.equal(raster.width, 12);
  assert.equal(raster.height, 8);
  const never = await decodeImage(bytes, { maxSide: 100 });
  assert.equal(never.raster.width, W, 'never enlarged');
});

function isDecodeError(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, `expected ImageDecodeError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.length > 10);
    return true;
  };
}

test('a truncated JPEG is refused as truncated', async () => {
  const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 200, b: 90 } } })
    .composite([{ input: card(), raw: { width: W, height: H, channels: 3 }, left: 5, top: 5 }]).jpeg().toBuffer();
  await assert.rejects(decodeImage(photo.subarray(0, Math.floor(photo.length * 0.6))), isDecodeError('truncated'));
});

test('text named .png, zero bytes: typed refusals', async () => {
  const text = new TextEncoder().encode('this is not an image, just text saved as photo.png\n');
  assert.equal(detectImageFormat(text), null);
  await assert.rejects(decodeImage(text), isDecodeError('unsupported'));
  await assert.rejects(decodeImage(new Uint8Array(0)), isDecodeError('empty'));
});

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

test('a 30000×30000 PNG header is refused as too large before any pixel is decoded', async () => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const headerOnly = Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IEND', Buffer.alloc(0))]);
  // with a little zlib data: what a decompression bomb looks like
  const bomb = Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(90001))), chunk('IEND', Buffer.alloc(0))]);
  const before = process.memoryUsage().rss;
  for (const bytes of [headerOnly, bomb]) {
    await assert.rejects(decodeImage(bytes), isDecodeError('too_large'));
    await assert.rejects(probeImage(bytes), isDecodeError('too_large'));
  }
  assert.ok(process.memoryUsage().rss - before < 200e6, 'nothing near 2.7 GB was allocated');
  // a lower limit applies the same way
  const small = await raw().png().toBuffer();
  await assert.rejects(decodeImage(small, { maxPixels: 100 }), isDecodeError('too_large'));
});

test('a PNG with a broken body is refused as corrupt or truncated, not crashed on', async () => {
  const png = await raw().png().toBuffer();
  const broken = Buffer.from(png);
  for (let i = 60; i < broken.length - 20; i++) broken[i] ^= 0x5a;
  await assert.rejects(decodeImage(broken), (e: unknown) => e instanceof ImageDecodeError && ['corrupt', 'truncated'].includes(e.code));
});
