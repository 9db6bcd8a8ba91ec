import { createHash } from 'node:crypto';
import type { ModelState, StateValue } from '../algorithms/types.ts';

/**
 * The binary form of a trained model: magic, format version, a JSON header (self-describing: algorithm,
 * parameters, threshold, calibration, engine version), the typed arrays, and a SHA-256 of all of it.
 *
 *   "KENSAMDL" | u32 format | u32 headerBytes | header JSON | pad to 8 | arrays… | sha256 (32 bytes)
 */
const MAGIC = 'KENSAMDL';
export const MODEL_FORMAT_VERSION = 1;

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;
const DTYPES = {
  f32: Float32Array, f64: Float64Array, i32: Int32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array,
} as const;
type DType = keyof typeof DTYPES;

function dtypeOf(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'f32';
  if (array instanceof Float64Array) return 'f64';
  if (array instanceof Int32Array) return 'i32';
  if (array instanceof Uint32Array) return 'u32';
  if (array instanceof Uint16Array) return 'u16';
  return 'u8';
}

interface ArrayRef { $array: number }
interface ArrayEntry { dtype: DType; offset: number; length: number }

function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Encodes a header (any JSON) whose values may hold typed arrays anywhere. */
export function encodeBlob(header: Record<string, unknown>): Uint8Array {
  const arrays: TypedArray[] = [];
  const entries: ArrayEntry[] = [];
  let offset = 0;
  const replace = (value: unknown): unknown => {
    if (isTypedArray(value)) {
      offset = Math.ceil(offset / 8) * 8;
      entries.push({ dtype: dtypeOf(value), offset, length: value.length });
      arrays.push(value);
      offset += value.byteLength;
      return { $array: arrays.length - 1 } satisfies ArrayRef;
    }
    if (Array.isArray(value)) return value.map(replace);
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = replace(v);
      return out;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  };
  const body = replace(header);
  const json = new TextEncoder().encode(JSON.stringify({ body, arrays: entries }));
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const total = dataStart + offset + 32;
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, MODEL_FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  entries.forEach((entry, i) => {
    const a = arrays[i];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + entry.offset);
  });
  const digest = createHash('sha256').update(out.subarray(0, total - 32)).digest();
  out.set(digest, total - 32);
  return out;
}

/** Decodes and verifies a blob; arrays are copied out so they are aligned and independent of the input. */
export function decodeBlob(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length < 48 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new ModelFormatError('Not a Kensa model file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.getUint32(8, true);
  if (format !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(`Model file format ${format} is not supported by this engine (format ${MODEL_FORMAT_VERSION}); retrain the model`);
  }
  const digest = createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest();
  if (!Buffer.from(bytes.subarray(bytes.length - 32)).equals(digest)) {
    throw new ModelFormatError('Model file is corrupt (checksum mismatch)');
  }
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 32) throw new ModelFormatError('Model file is truncated');
  let parsed: { body: unknown; arrays: ArrayEntry[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    throw new ModelFormatError('Model file header is not valid JSON');
  }
  const dataStart = Math.ceil((16 + headerLength) / 8) * 8;
  const arrays = parsed.arrays.map((entry) => {
    const Type = DTYPES[entry.dtype];
    if (!Type) throw new ModelFormatError(`Unknown array type ${entry.dtype}`);
    const start = dataStart + entry.offset;
    const end = start + entry.length * Type.BYTES_PER_ELEMENT;
    if (end > bytes.length - 32) throw new ModelFormatError('Model file is truncated');
    const copy = new Uint8Array(bytes.subarray(start, end));
    return new Type(copy.buffer, 0, entry.length);
  });
  const restore = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(restore);
    if (value && typeof value === 'object') {
      if ('$array' in value) return arrays[(value as ArrayRef).$array];
      if ('$number' in value) return Number((value as { $number: string }).$number);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = restore(v);
      return out;
    }
    return value;
  };
  return restore(parsed.body) as Record<string, unknown>;
}

export type { ModelState, StateValue };
