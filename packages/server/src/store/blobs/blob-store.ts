/**
 * Where images, model files and rendered results live: a folder (one machine, or a shared volume) or
 * S3-compatible storage (several machines), chosen by KENSA_BLOB_URL. Keys are relative paths such as
 * `images/<client>/<item>/1.png`; see blob-keys.ts for the rules.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBlobStore } from './file-blob-store.ts';
import { S3BlobStore, type S3Location } from './s3-blob-store.ts';

export { BlobNotFoundError, InvalidBlobKeyError, checkBlobKey, checkBlobPrefix } from './blob-keys.ts';

export interface BlobEntry {
  key: string;
  size: number;
}

export interface BlobStore {
  /** For logs: the configured URL with credentials removed. */
  readonly url: string;
  /** Atomic: readers see the old blob or the new one, never part of one. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Stores a finished local file and takes it: afterwards the file is gone from `localPath` (moved or deleted). */
  putFile(key: string, localPath: string): Promise<void>;
  /** Throws BlobNotFoundError when missing. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** A missing blob is fine. */
  remove(key: string): Promise<void>;
  /** Everything under a "folder": `removePrefix('images/abc')` removes `images/abc/…`, never `images/abcd/…`. */
  removePrefix(prefix: string): Promise<void>;
  /** Every key under a folder ("" for all), in key order, fetched page by page. */
  list(prefix: string): AsyncIterable<BlobEntry>;
  /**
   * A local file holding the blob, for worker threads that read by path: the file itself (file store) or a
   * download into a bounded local cache (S3; keys are written once, so a cached copy stays valid).
   * Throws BlobNotFoundError when missing.
   */
  localPath(key: string): Promise<string>;
  close(): Promise<void>;
}

export interface BlobStoreOptions {
  /** Local folder for the S3 store's downloads; one per process (another process's eviction would pull files away). */
  cacheDir: string;
  /** Bound of that cache in bytes, 2 GB by default; least recently used files go first. */
  cacheBytes?: number;
  /** Keys a ListObjectsV2 page asks for (S3 allows at most 1000); small values let tests see paging. */
  listPageSize?: number;
}

const S3_PARAMETERS = ['endpoint', 'region', 'forcePathStyle', 'accessKeyId', 'secretAccessKey', 'sessionToken'];
const SECRET_PARAMETERS = new Set(['accessKeyId', 'secretAccessKey', 'sessionToken']);

/**
 * `file:///absolute/folder` or `s3://bucket[/key-prefix]?endpoint=…&region=…&forcePathStyle=true`
 * (credentials from the standard AWS environment variables, or `accessKeyId`/`secretAccessKey` parameters).
 */
export function openBlobStore(url: string, options: BlobStoreOptions): BlobStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`KENSA_BLOB_URL is not a URL: ${JSON.stringify(url)} (expected file:///folder or s3://bucket?endpoint=…)`);
  }
  if (parsed.protocol === 'file:') return new FileBlobStore(fileFolder(parsed, url));
  if (parsed.protocol === 's3:') return new S3BlobStore(s3Location(parsed, url), options);
  throw new Error(`KENSA_BLOB_URL ${JSON.stringify(redact(parsed))}: unsupported scheme "${parsed.protocol}" (expected file:///folder or s3://bucket?endpoint=…)`);
}

function fileFolder(parsed: URL, url: string): string {
  // "file:data" and "file:./data" parse as /data: refuse them rather than write somewhere unexpected.
  if (!/^file:\/\/(localhost)?\//i.test(url) || (parsed.host !== '' && parsed.host !== 'localhost')) {
    throw new Error(`KENSA_BLOB_URL ${JSON.stringify(url)}: a file URL needs an absolute path, file:///folder`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw new Error(`KENSA_BLOB_URL ${JSON.stringify(url)}: a file URL takes no parameters`);
  const folder = fileURLToPath(parsed);
  if (!isAbsolute(folder) || folder === '/') throw new Error(`KENSA_BLOB_URL ${JSON.stringify(url)}: needs a folder, file:///folder`);
  return folder;
}

function s3Location(parsed: URL, url: string): S3Location {
  const shown = JSON.stringify(redact(parsed));
  const bucket = parsed.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`KENSA_BLOB_URL ${shown}: "${bucket}" is not a bucket name (3 to 63 lowercase letters, digits, "." or "-"; s3://bucket?endpoint=…)`);
  }
  if (parsed.port !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new Error(`KENSA_BLOB_URL ${shown}: put the server in the endpoint parameter (s3://bucket?endpoint=http://host:port)`);
  }
  const query = parsed.searchParams;
  for (const name of query.keys()) {
    if (!S3_PARAMETERS.includes(name)) throw new Error(`KENSA_BLOB_URL ${shown}: unknown parameter "${name}" (known: ${S3_PARAMETERS.join(', ')})`);
  }
  const endpoint = query.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint)) {
    throw new Error(`KENSA_BLOB_URL ${shown}: endpoint must be http(s)://host[:port], not ${JSON.stringify(endpoint)}`);
  }
  const forcePathStyle = query.get('forcePathStyle');
  if (forcePathStyle !== null && forcePathStyle !== 'true' && forcePathStyle !== 'false') {
    throw new Error(`KENSA_BLOB_URL ${shown}: forcePathStyle must be true or false`);
  }
  const accessKeyId = query.get('accessKeyId');
  const secretAccessKey = query.get('secretAccessKey');
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new Error(`KENSA_BLOB_URL ${shown}: give both accessKeyId and secretAccessKey, or neither (then the AWS environment variables are used)`);
  }
  const keyPrefix = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ''));
  if (keyPrefix !== '') checkPrefixOfUrl(keyPrefix, shown);
  return {
    url: redact(parsed),
    bucket,
    keyPrefix: keyPrefix === '' ? '' : `${keyPrefix}/`,
    endpoint,
    region: query.get('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: forcePathStyle === 'true',
    credentials: accessKeyId !== null && secretAccessKey !== null
      ? { accessKeyId, secretAccessKey, sessionToken: query.get('sessionToken') ?? undefined }
      : undefined,
  };
}

function checkPrefixOfUrl(keyPrefix: string, shown: string): void {
  for (const segment of keyPrefix.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new Error(`KENSA_BLOB_URL ${shown}: the key prefix "${keyPrefix}" has an empty, "." or ".." segment`);
  }
}

/** The URL as logs may show it: credentials dropped, parameters left readable (not percent-encoded). */
function redact(parsed: URL): string {
  const shown = [...parsed.searchParams].filter(([name]) => !SECRET_PARAMETERS.has(name)).map(([name, value]) => `${name}=${value}`);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${shown.length > 0 ? `?${shown.join('&')}` : ''}`;
}
