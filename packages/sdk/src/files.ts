/**
 * What `upload`, `inspect`, `activateLicense` and `importModel` accept, turned into named Blobs for
 * `FormData`. Browser-safe: file paths are read by `node-files.ts`, imported only when a path is given.
 */

/** Bytes with the file name the server should see (the item id is the name without its extension). */
export interface NamedData {
  name: string;
  data: Blob | ArrayBuffer | Uint8Array;
  /** MIME type; the server checks content anyway. */
  type?: string;
}

/**
 * A file to send: a path (Node only), a `File`, a `{ name, data }` pair, or bare bytes / a Blob without a
 * name, which are sent as `upload-<n>` (so their item ids are `upload-<n>`: prefer giving a name).
 */
export type FileInput = string | Blob | ArrayBuffer | Uint8Array | NamedData;

export interface NamedBlob {
  name: string;
  blob: Blob;
}

function toBlob(data: Blob | ArrayBuffer | Uint8Array, type?: string): Blob {
  if (data instanceof Blob) return data;
  // A Uint8Array may view a larger buffer (a Node Buffer from the pool): copy only its own bytes.
  const bytes = data instanceof Uint8Array ? data.slice() : new Uint8Array(data);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], type ? { type } : undefined);
}

let unnamedCounter = 0;

/** Reads every input into a named Blob, in order. */
export async function toNamedBlobs(inputs: readonly FileInput[]): Promise<NamedBlob[]> {
  const out: NamedBlob[] = [];
  for (const input of inputs) {
    if (typeof input === 'string') {
      const { readPathAsBlob } = await import('./node-files.ts');
      out.push(await readPathAsBlob(input));
    } else if (input instanceof Blob) {
      const name = typeof (input as File).name === 'string' && (input as File).name ? (input as File).name : `upload-${++unnamedCounter}`;
      out.push({ name, blob: input });
    } else if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
      out.push({ name: `upload-${++unnamedCounter}`, blob: toBlob(input) });
    } else if (input && typeof input === 'object' && typeof input.name === 'string') {
      out.push({ name: input.name, blob: toBlob(input.data, input.type) });
    } else {
      throw new TypeError('A file must be a path, a Blob/File, bytes, or { name, data }');
    }
  }
  return out;
}
