/**
 * Where images, model files and rendered results live: a folder (one machine, or a shared volume) or
 * S3-compatible storage (several machines), chosen by KENSA_BLOB_URL. Keys are relative paths such as
 * `images/<client>/<item>/1.png`; see blob-keys.ts for the rules. The stores implement this interface;
 * open-blob-store.ts builds the one a URL names.
 */
import type { CacheHold } from './blob-cache.ts';

export { BlobNotFoundError, InvalidBlobKeyError, checkBlobKey, checkBlobPrefix } from './blob-keys.ts';
export { CacheHold } from './blob-cache.ts';

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
   * Throws BlobNotFoundError when missing. With a hold, a cached copy stays until `release(hold)`: for jobs that
   * read their files while they run, however long that is.
   */
  localPath(key: string, hold?: CacheHold): Promise<string>;
  release(hold: CacheHold): Promise<void>;
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
