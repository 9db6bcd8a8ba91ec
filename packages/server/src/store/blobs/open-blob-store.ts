/**
 * Builds the blob store KENSA_BLOB_URL names: the file store for `file:///folder`, the S3 store (with its local
 * cache) for `s3://bucket?…`. Kept apart from the interface so that the stores import only the interface.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore, BlobStoreOptions } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { S3BlobStore, type S3Location } from './s3-blob-store.ts';

const S3_PARAMETERS = ['endpoint', 'region', 'forcePathStyle', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'cacheMB'];
const SECRET_PARAMETERS = new Set(['accessKeyId', 'secretAccessKey', 'sessionToken']);

/**
 * `file:///absolute/folder` or `s3://bucket[/key-prefix]?endpoint=…&region=…&forcePathStyle=true`
 * (credentials from the standard AWS environment variables, or `accessKeyId`/`secretAccessKey` parameters;
 * `cacheMB` bounds the local download cache, 2048 by default).
 */
export function openBlobStore(url: string, options: BlobStoreOptions): BlobStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`KENSA_BLOB_URL is not a URL: ${JSON.stringify(url)} (expected file:///folder or s3://bucket?endpoint=…)`);
  }
  if (parsed.protocol === 'file:') return new FileBlobStore(fileFolder(parsed, url));
  if (parsed.protocol === 's3:') return new S3BlobStore(s3Location(parsed, url), { ...options, ...cacheBound(parsed) });
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

function cacheBound(parsed: URL): Pick<BlobStoreOptions, 'cacheBytes'> {
  const given = parsed.searchParams.get('cacheMB');
  if (given === null) return {};
  const megabytes = Number(given);
  if (!(megabytes > 0) || !Number.isFinite(megabytes)) {
    throw new Error(`KENSA_BLOB_URL ${JSON.stringify(redact(parsed))}: cacheMB must be a positive number of megabytes, not ${JSON.stringify(given)}`);
  }
  return { cacheBytes: Math.ceil(megabytes * 1024 * 1024) };
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
