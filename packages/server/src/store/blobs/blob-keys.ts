/** Blob keys ("images/<client>/<item>/1.png") and the errors every blob store throws. */

export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_NOT_FOUND';
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

export class InvalidBlobKeyError extends Error {
  readonly code = 'INVALID_BLOB_KEY';
  constructor(readonly key: string, reason: string) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

/** S3 allows 1024 bytes a key; the file store adds a few characters to a name while writing it. */
const MAX_KEY_BYTES = 1000;

/**
 * The same rules for every store, so a key that works on a folder also works on S3 and back (`kensa migrate`):
 * relative, "/"-separated, no empty, "." or ".." segments, no control characters.
 */
export function checkBlobKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new InvalidBlobKeyError(String(key), 'empty');
  if (key.startsWith('/')) throw new InvalidBlobKeyError(key, 'must not start with "/"');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidBlobKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidBlobKeyError(key, 'control characters are not allowed');
  if (key.includes('\\')) throw new InvalidBlobKeyError(key, 'use "/" to separate segments, not "\\"');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidBlobKeyError(key, 'empty segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw new InvalidBlobKeyError(key, `"${segment}" segments are not allowed`);
  }
  return key;
}

/**
 * A "folder" of keys: "" (every key) or a key, read as "everything under it". Returned with a trailing "/" so
 * that the prefix "images/a" never matches "images/ab/…" on S3, where prefixes are plain string prefixes.
 */
export function checkBlobPrefix(prefix: string): string {
  if (prefix === '') return '';
  checkBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}
