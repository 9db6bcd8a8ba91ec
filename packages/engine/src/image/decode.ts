import sharp, { type Metadata } from 'sharp';
import { fitWithin, type Raster } from './raster.ts';
import { EXIF_SRGB, exifColorSpaceOf, parseExif, type ExifValue } from './exif.ts';

export type ImageErrorCode = 'empty' | 'unsupported' | 'truncated' | 'corrupt' | 'too_large';

/** A typed refusal of an input image; `code` says what is wrong, `message` says it in words. */
export class ImageDecodeError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.name = 'ImageDecodeError';
    this.code = code;
  }
}

export const DEFAULT_MAX_PIXELS = 100_000_000;
export const SUPPORTED_FORMATS = ['png', 'jpeg', 'tiff', 'bmp', 'webp'] as const;
export type ImageFormat = (typeof SUPPORTED_FORMATS)[number];

const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: 'image/png', jpeg: 'image/jpeg', tiff: 'image/tiff', bmp: 'image/bmp', webp: 'image/webp',
};

export interface ImageInfo {
  format: ImageFormat;
  contentType: string;
  /** Size after EXIF orientation is applied: the pixels every result is reported in. */
  width: number;
  height: number;
  bitDepth: 8 | 16;
  channels: number;
  /** The image's EXIF as the original service wrote it (see exif.ts), with ColorSpace always an EXIF integer. */
  exif: Record<string, ExifValue>;
}

export interface DecodedImage {
  info: ImageInfo;
  /** RGB raster at working resolution (longest side ≤ maxSide), values in [0, 1]. */
  raster: Raster;
}

export interface DecodeOptions {
  /** Longest side of the working raster; the original is never enlarged. */
  maxSide?: number;
  maxPixels?: number;
}

/** Magic numbers, checked before sharp so that errors name the real problem. */
function sniffFormat(bytes: Uint8Array): ImageFormat | 'bmp' | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) ||
    (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return 'tiff';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return null;
}

/** The image type of some bytes by content, or null: what uploads are checked with. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  return sniffFormat(bytes);
}

function translateSharpError(error: unknown): ImageDecodeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new ImageDecodeError('too_large', `Image is larger than the pixel limit: ${message}`);
  if (/premature end|truncated|unexpected end|short read|end of file/i.test(message)) {
    return new ImageDecodeError('truncated', `Image data is truncated: ${message}`);
  }
  return new ImageDecodeError('corrupt', `Image data is corrupt: ${message}`);
}

const EXIF_ORIENTATION_SWAPS = new Set([5, 6, 7, 8]);

/** Reads type, size and EXIF without decoding pixels; refuses what decode would refuse on size or type. */
export async function probeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<ImageInfo> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new ImageDecodeError('empty', 'Image file is empty (0 bytes)');
  const format = sniffFormat(bytes);
  if (!format) throw new ImageDecodeError('unsupported', 'Not an image of a supported type (PNG, JPEG, TIFF, BMP, WebP)');
  if (format === 'png' && bytes.length >= 24) {
    // The declared size decides, even when the rest is missing or broken (a decompression bomb's header).
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const declared = view.getUint32(16) * view.getUint32(20);
    if (declared > maxPixels) {
      throw new ImageDecodeError('too_large',
        `Image is ${view.getUint32(16)}×${view.getUint32(20)} = ${(declared / 1e6).toFixed(1)} MP; the limit is ${(maxPixels / 1e6).toFixed(0)} MP`);
    }
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    // sharp cannot read BMP headers itself; BMP is decoded below from its own header.
    if (format === 'bmp') return probeBmp(bytes, maxPixels);
    throw translateSharpError(error);
  }
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.height ?? 0;
  if (rawWidth <= 0 || rawHeight <= 0) throw new ImageDecodeError('corrupt', 'Image has no size');
  if (rawWidth * rawHeight > maxPixels) {
    throw new ImageDecodeError('too_large',
      `Image is ${rawWidth}×${rawHeight} = ${(rawWidth * rawHeight / 1e6).toFixed(1)} MP; the limit is ${(maxPixels / 1e6).toFixed(0)} MP`);
  }
  const swapped = EXIF_ORIENTATION_SWAPS.has(meta.orientation ?? 1);
  const exif: Record<string, ExifValue> = meta.exif ? parseExif(meta.exif) : {};
  if (meta.orientation && exif.Orientation === undefined) exif.Orientation = meta.orientation;
  if (meta.density) exif.Density = meta.density;
  if (typeof exif.ColorSpace !== 'number') exif.ColorSpace = exifColorSpaceOf(meta.space);
  return {
    format,
    contentType: CONTENT_TYPES[format],
    width: swapped ? rawHeight : rawWidth,
    height: swapped ? rawWidth : rawHeight,
    bitDepth: meta.depth === 'ushort' ? 16 : 8,
    channels: meta.channels ?? 3,
    exif,
  };
}

/**
 * Decoded RGB pixels kept as integers (8 or 16 bits): a 12 MP photo is 36 MB this way, not 144 MB as floats,
 * so tiling can cut float tiles out of it one at a time.
 */
export interface PixelBuffer {
  width: number;
  height: number;
  /** Interleaved RGB. */
  data: Uint8Array | Uint16Array;
  /** 255 or 65535: the value that means full intensity. */
  maxValue: number;
}

/**
 * Decodes any supported image once, honouring EXIF orientation, resampled to `size` (default: fitted
 * within `maxSide`, or the original's size after orientation).
 */
export async function decodePixels(bytes: Uint8Array, options: DecodeOptions & { size?: { width: number; height: number } } = {}): Promise<{ info: ImageInfo; pixels: PixelBuffer }> {
  const info = await probeImage(bytes, options);
  const target = options.size ?? fitWithin(info.width, info.height, options.maxSide ?? Math.max(info.width, info.height));
  try {
    // sharp (libvips) has no BMP loader: BMP pixels are read here and handed to sharp raw.
    const source = info.format === 'bmp'
      ? sharp(decodeBmp(bytes), { raw: { width: info.width, height: info.height, channels: 3 } })
      : sharp(bytes, { failOn: 'truncated', limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS }).rotate();
    const sixteen = info.bitDepth === 16;
    const pipeline = source
      .removeAlpha()
      .toColourspace(sixteen ? 'rgb16' : 'srgb')
      .resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info: out } = await pipeline.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const samples = sixteen
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const pixels = out.width * out.height;
    // Grey images come back with one channel: spread it to three, as every algorithm reads RGB.
    let rgb = samples;
    if (out.channels !== 3) {
      rgb = sixteen ? new Uint16Array(pixels * 3) : new Uint8Array(pixels * 3);
      for (let i = 0; i < pixels; i++) {
        for (let c = 0; c < 3; c++) rgb[i * 3 + c] = samples[i * out.channels + Math.min(c, out.channels - 1)];
      }
    }
    return { info, pixels: { width: out.width, height: out.height, data: rgb, maxValue: sixteen ? 65535 : 255 } };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw translateSharpError(error);
  }
}

/** A region of decoded pixels as a float raster in [0, 1]. */
export function pixelsToRaster(pixels: PixelBuffer, region = { x: 0, y: 0, width: pixels.width, height: pixels.height }): Raster {
  const out = new Float32Array(region.width * region.height * 3);
  const scale = 1 / pixels.maxValue;
  const { data } = pixels;
  const rowLength = region.width * 3;
  for (let y = 0; y < region.height; y++) {
    const from = ((region.y + y) * pixels.width + region.x) * 3;
    const to = y * rowLength;
    for (let i = 0; i < rowLength; i++) out[to + i] = data[from + i] * scale;
  }
  return { width: region.width, height: region.height, channels: 3, data: out };
}

/** Decodes any supported image to an RGB working raster, honouring EXIF orientation. */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const { info, pixels } = await decodePixels(bytes, options);
  return { info, raster: pixelsToRaster(pixels) };
}

// --- BMP: sharp (libvips) has no BMP loader, so uncompressed BMPs are read here. ---

function bmpHeader(bytes: Uint8Array) {
  if (bytes.length < 54) throw new ImageDecodeError('truncated', 'BMP header is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  return { view, dataOffset, width, height: Math.abs(rawHeight), bottomUp: rawHeight > 0, bitsPerPixel, compression };
}

function probeBmp(bytes: Uint8Array, maxPixels: number): ImageInfo {
  const h = bmpHeader(bytes);
  if (h.width <= 0 || h.height <= 0) throw new ImageDecodeError('corrupt', 'BMP has no size');
  if (h.width * h.height > maxPixels) throw new ImageDecodeError('too_large', `Image is ${h.width}×${h.height}; the limit is ${(maxPixels / 1e6).toFixed(0)} MP`);
  if (![24, 32].includes(h.bitsPerPixel) || ![0, 3].includes(h.compression)) {
    throw new ImageDecodeError('unsupported', `BMP with ${h.bitsPerPixel} bits per pixel or compression ${h.compression} is not supported (24/32-bit uncompressed only)`);
  }
  return { format: 'bmp', contentType: CONTENT_TYPES.bmp, width: h.width, height: h.height, bitDepth: 8, channels: 3, exif: { ColorSpace: EXIF_SRGB } };
}

function decodeBmp(bytes: Uint8Array): Uint8Array {
  const h = bmpHeader(bytes);
  const bytesPerPixel = h.bitsPerPixel / 8;
  const stride = Math.ceil((h.width * bytesPerPixel) / 4) * 4;
  if (h.dataOffset + stride * h.height > bytes.length) throw new ImageDecodeError('truncated', 'BMP pixel data is truncated');
  const out = new Uint8Array(h.width * h.height * 3);
  for (let y = 0; y < h.height; y++) {
    const row = h.dataOffset + (h.bottomUp ? h.height - 1 - y : y) * stride;
    for (let x = 0; x < h.width; x++) {
      const p = row + x * bytesPerPixel;
      const o = (y * h.width + x) * 3;
      out[o] = bytes[p + 2];
      out[o + 1] = bytes[p + 1];
      out[o + 2] = bytes[p];
    }
  }
  return out;
}
