/**
 * The EXIF of an image as one flat dictionary, the way the original service's Python stack (PIL's `_getexif`)
 * wrote it: IFD0 and Exif sub-IFD tags by name, numbers as integers, rationals as `[numerator, denominator]`,
 * texts without their trailing NUL, undefined bytes as a Latin-1 string, GPS tags as `GPSInfo` keyed by tag
 * number. Tags are read from the raw block sharp hands out (`metadata().exif`); nothing here decodes pixels.
 */

export type ExifValue = string | number | number[] | number[][] | Record<string, unknown>;

/**
 * The tags kept, by number: name and shape. A tag defined as one value keeps one value even when a camera
 * writes more (the first), so that clients that declare the documented type (a C# `int`, say) can read it.
 */
type Shape = 'int' | 'ints' | 'rational' | 'rationals' | 'text' | 'bytes';
const TAGS: Record<number, [string, Shape]> = {
  0x010e: ['ImageDescription', 'text'], 0x010f: ['Make', 'text'], 0x0110: ['Model', 'text'], 0x0112: ['Orientation', 'int'],
  0x011a: ['XResolution', 'rational'], 0x011b: ['YResolution', 'rational'], 0x0128: ['ResolutionUnit', 'int'],
  0x0131: ['Software', 'text'], 0x0132: ['DateTime', 'text'], 0x013b: ['Artist', 'text'], 0x0213: ['YCbCrPositioning', 'int'],
  0x8298: ['Copyright', 'text'], 0x8769: ['ExifOffset', 'int'], 0x829a: ['ExposureTime', 'rational'], 0x829d: ['FNumber', 'rational'],
  0x8822: ['ExposureProgram', 'int'], 0x8827: ['ISOSpeedRatings', 'int'], 0x9000: ['ExifVersion', 'bytes'],
  0x9003: ['DateTimeOriginal', 'text'], 0x9004: ['DateTimeDigitized', 'text'], 0x9010: ['OffsetTime', 'text'],
  0x9011: ['OffsetTimeOriginal', 'text'], 0x9012: ['OffsetTimeDigitized', 'text'], 0x9101: ['ComponentsConfiguration', 'bytes'],
  0x9102: ['CompressedBitsPerPixel', 'rational'], 0x9201: ['ShutterSpeedValue', 'rational'], 0x9202: ['ApertureValue', 'rational'],
  0x9203: ['BrightnessValue', 'rational'], 0x9204: ['ExposureBiasValue', 'rational'], 0x9205: ['MaxApertureValue', 'rational'],
  0x9206: ['SubjectDistance', 'rational'], 0x9207: ['MeteringMode', 'int'], 0x9208: ['LightSource', 'int'], 0x9209: ['Flash', 'int'],
  0x920a: ['FocalLength', 'rational'], 0x9214: ['SubjectArea', 'ints'], 0x9286: ['UserComment', 'bytes'],
  0x9290: ['SubsecTime', 'text'], 0x9291: ['SubsecTimeOriginal', 'text'], 0x9292: ['SubsecTimeDigitized', 'text'],
  0xa000: ['FlashPixVersion', 'bytes'], 0xa001: ['ColorSpace', 'int'], 0xa002: ['ExifImageWidth', 'int'], 0xa003: ['ExifImageHeight', 'int'],
  0xa005: ['ExifInteroperabilityOffset', 'int'], 0xa20e: ['FocalPlaneXResolution', 'rational'], 0xa20f: ['FocalPlaneYResolution', 'rational'],
  0xa210: ['FocalPlaneResolutionUnit', 'int'], 0xa214: ['SubjectLocation', 'ints'], 0xa217: ['SensingMethod', 'int'],
  0xa300: ['FileSource', 'bytes'], 0xa301: ['SceneType', 'bytes'], 0xa401: ['CustomRendered', 'int'], 0xa402: ['ExposureMode', 'int'],
  0xa403: ['WhiteBalance', 'int'], 0xa404: ['DigitalZoomRatio', 'rational'], 0xa405: ['FocalLengthIn35mmFilm', 'int'],
  0xa406: ['SceneCaptureType', 'int'], 0xa407: ['GainControl', 'int'], 0xa408: ['Contrast', 'int'], 0xa409: ['Saturation', 'int'],
  0xa40a: ['Sharpness', 'int'], 0xa40c: ['SubjectDistanceRange', 'int'], 0xa420: ['ImageUniqueID', 'text'],
  0xa431: ['BodySerialNumber', 'text'], 0xa432: ['LensSpecification', 'rationals'], 0xa433: ['LensMake', 'text'], 0xa434: ['LensModel', 'text'],
};
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
/** Bytes per value of each TIFF type. */
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
/** Undefined-byte tags longer than this are left out (maker data, thumbnails), as no client reads them. */
const MAX_BYTES_VALUE = 1024;

/** EXIF ColorSpace: 1 = sRGB, 0xFFFF = uncalibrated. */
export const EXIF_SRGB = 1;
export const EXIF_UNCALIBRATED = 0xffff;

/** The EXIF ColorSpace of a decoder colour space (sharp's `space`): sRGB and grey are sRGB, anything else uncalibrated. */
export function exifColorSpaceOf(space: string | undefined): number {
  return space === undefined || space === 'srgb' || space === 'b-w' ? EXIF_SRGB : EXIF_UNCALIBRATED;
}

/**
 * Reads an EXIF block (optionally starting with "Exif\0\0", as JPEG's APP1 and sharp give it); an unreadable
 * block gives what was read before the damage, so a broken camera tag never refuses an image.
 */
export function parseExif(block: Uint8Array): Record<string, ExifValue> {
  let start = 0;
  if (block.length >= 6 && String.fromCharCode(...block.subarray(0, 4)) === 'Exif') start = 6;
  const view = new DataView(block.buffer, block.byteOffset + start, block.byteLength - start);
  const out: Record<string, ExifValue> = {};
  if (view.byteLength < 8) return out;
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return out;
  const little = order === 0x4949;
  const visited = new Set<number>();

  const readIfd = (offset: number, visit: (tag: number, type: number, count: number, valueOffset: number) => void) => {
    if (visited.has(offset) || offset + 2 > view.byteLength) return;
    visited.add(offset);
    const entries = view.getUint16(offset, little);
    for (let i = 0; i < entries; i++) {
      const entry = offset + 2 + i * 12;
      if (entry + 12 > view.byteLength) return;
      const type = view.getUint16(entry + 2, little);
      const count = view.getUint32(entry + 4, little);
      const size = (TYPE_SIZES[type] ?? 0) * count;
      if (size === 0) continue;
      const valueOffset = size <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
      if (valueOffset + size > view.byteLength) continue;
      visit(view.getUint16(entry, little), type, count, valueOffset);
    }
  };

  const valuesOf = (type: number, count: number, at: number): number[] | number[][] | string => {
    switch (type) {
      case 2: return latin1(at, count).replace(/\0+$/, '');
      case 7: return latin1(at, count);
      case 5: case 10: {
        const pairs: number[][] = [];
        for (let i = 0; i < count; i++) {
          const read = (o: number) => (type === 5 ? view.getUint32(o, little) : view.getInt32(o, little));
          pairs.push([read(at + i * 8), read(at + i * 8 + 4)]);
        }
        return pairs;
      }
      default: {
        const size = TYPE_SIZES[type];
        const numbers: number[] = [];
        for (let i = 0; i < count; i++) {
          const o = at + i * size;
          numbers.push(type === 1 ? view.getUint8(o) : type === 6 ? view.getInt8(o) : type === 3 ? view.getUint16(o, little)
            : type === 8 ? view.getInt16(o, little) : type === 4 ? view.getUint32(o, little) : type === 9 ? view.getInt32(o, little)
              : type === 11 ? view.getFloat32(o, little) : view.getFloat64(o, little));
        }
        return numbers;
      }
    }
  };
  function latin1(at: number, count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += String.fromCharCode(view.getUint8(at + i));
    return text;
  }

  const shaped = (shape: Shape, raw: number[] | number[][] | string): ExifValue | undefined => {
    if (shape === 'text' || shape === 'bytes') return typeof raw === 'string' ? raw : undefined;
    if (typeof raw === 'string' || raw.length === 0) return undefined;
    const first = raw[0];
    if (shape === 'int') return typeof first === 'number' ? first : undefined;
    if (shape === 'ints') return typeof first === 'number' ? raw as number[] : undefined;
    if (shape === 'rational') return Array.isArray(first) ? first : undefined;
    return Array.isArray(first) ? raw as number[][] : undefined;
  };

  const collect = (tag: number, type: number, count: number, at: number) => {
    if (tag === EXIF_IFD) {
      out.ExifOffset = view.getUint32(at, little);
      readIfd(view.getUint32(at, little), collect);
      return;
    }
    if (tag === GPS_IFD) {
      const gps: Record<string, unknown> = {};
      readIfd(view.getUint32(at, little), (gpsTag, gpsType, gpsCount, gpsAt) => {
        const raw = valuesOf(gpsType, gpsCount, gpsAt);
        gps[String(gpsTag)] = typeof raw === 'string' || raw.length !== 1 ? raw : raw[0];
      });
      out.GPSInfo = gps;
      return;
    }
    const known = TAGS[tag];
    if (!known || (type === 7 && count > MAX_BYTES_VALUE)) return;
    const value = shaped(known[1], valuesOf(type, count, at));
    if (value !== undefined) out[known[0]] = value;
  };

  try {
    readIfd(view.getUint32(4, little), collect);
  } catch {
    // A damaged block: keep what was read.
  }
  return out;
}
