import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BlobCache, DEFAULT_CACHE_BYTES, type BlobCacheStats, type CacheHold } from './blob-cache.ts';
import { BlobNotFoundError, InvalidBlobKeyError, checkBlobKey, checkBlobPrefix } from './blob-keys.ts';
import type { BlobEntry, BlobStore, BlobStoreOptions } from './blob-store.ts';

/** What an s3:// KENSA_BLOB_URL says (parsed by openBlobStore). */
export interface S3Location {
  /** For logs, without credentials. */
  url: string;
  bucket: string;
  /** "" or "folder/": every key is stored under it, so one bucket can hold several installations. */
  keyPrefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** DeleteObjects takes at most 1000 keys a request; ListObjectsV2 returns at most 1000 a page. */
const S3_BATCH_LIMIT = 1000;

/** Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph), for several servers and workers on several machines. */
export class S3BlobStore implements BlobStore {
  readonly url: string;
  private readonly client: S3Client;
  private readonly cache: BlobCache;
  private readonly listPageSize: number;

  constructor(private readonly location: S3Location, options: BlobStoreOptions) {
    this.url = location.url;
    this.listPageSize = options.listPageSize ?? S3_BATCH_LIMIT;
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > S3_BATCH_LIMIT) {
      throw new Error(`listPageSize must be an integer from 1 to ${S3_BATCH_LIMIT}, not ${options.listPageSize}`);
    }
    this.client = new S3Client({
      endpoint: location.endpoint,
      region: location.region,
      forcePathStyle: location.forcePathStyle,
      credentials: location.credentials,
      // Checksums only where S3 requires them: S3-compatible servers (older MinIO and Ceph, s3rver) reject or
      // mishandle the newer default trailing checksums on uploads.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.cache = new BlobCache(options.cacheDir, options.cacheBytes ?? DEFAULT_CACHE_BYTES);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const objectKey = this.objectKey(key);
    // S3 makes an object visible only once it is complete, so PutObject is atomic for readers.
    await this.call('put', key, () => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: objectKey, Body: bytes })));
    await this.cache.drop(this.cacheId(objectKey));
  }

  /** Uploads the file, then keeps it as this machine's cached copy (a worker's model is often read again here). */
  async putFile(key: string, localPath: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const bytes = await readFile(localPath); // blobs stay well under 50 MB: one PutObject, no multipart
    await this.call('put', key, () => this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: objectKey, Body: bytes })));
    await this.cache.adopt(this.cacheId(objectKey), localPath);
  }

  async get(key: string): Promise<Buffer> {
    const objectKey = this.objectKey(key);
    const answer = await this.call('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: objectKey })));
    const bytes = await answer.Body!.transformToByteArray();
    checkLength(key, answer.ContentLength, bytes.byteLength);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    try {
      await this.call('head', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: objectKey })));
      return true;
    } catch (error) {
      if (error instanceof BlobNotFoundError) return false;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: objectKey })));
    await this.cache.drop(this.cacheId(objectKey));
  }

  async removePrefix(prefix: string): Promise<void> {
    const folder = checkBlobPrefix(prefix);
    if (folder === '') throw new InvalidBlobKeyError(prefix, 'removePrefix needs a folder; it will not remove everything');
    let batch: string[] = [];
    for await (const { key } of this.list(folder)) {
      batch.push(this.location.keyPrefix + key);
      if (batch.length === S3_BATCH_LIMIT) {
        await this.deleteObjects(folder, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.deleteObjects(folder, batch);
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    const folder = checkBlobPrefix(prefix);
    const { bucket, keyPrefix } = this.location;
    let continuationToken: string | undefined;
    do {
      const page = await this.call('list', folder, () => this.client.send(new ListObjectsV2Command({
        Bucket: bucket, Prefix: keyPrefix + folder, MaxKeys: this.listPageSize, ContinuationToken: continuationToken,
      })));
      for (const object of page.Contents ?? []) yield { key: object.Key!.slice(keyPrefix.length), size: object.Size ?? 0 };
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async localPath(key: string, hold?: CacheHold): Promise<string> {
    const objectKey = this.objectKey(key);
    return this.cache.get(this.cacheId(objectKey), async (temporaryPath) => {
      const answer = await this.call('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: objectKey })));
      await pipeline(answer.Body as Readable, createWriteStream(temporaryPath));
      checkLength(key, answer.ContentLength, (await stat(temporaryPath)).size);
    }, hold);
  }

  release(hold: CacheHold): Promise<void> {
    return this.cache.release(hold);
  }

  /** Hits, downloads and evictions of the local cache behind localPath, and its size now. */
  cacheStats(): BlobCacheStats {
    return this.cache.stats();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.location.keyPrefix + checkBlobKey(key);
  }

  /** Cache names include where the blob lives, so stores on other buckets or servers may share a cache folder safely. */
  private cacheId(objectKey: string): string {
    return `${this.location.endpoint ?? 'aws'}|${this.location.bucket}|${objectKey}`;
  }

  private async deleteObjects(folder: string, objectKeys: string[]): Promise<void> {
    const answer = await this.call('delete', folder, () => this.client.send(new DeleteObjectsCommand({
      Bucket: this.location.bucket, Delete: { Objects: objectKeys.map((Key) => ({ Key })), Quiet: true },
    })));
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      throw new Error(`S3 could not delete ${failed.length} of ${objectKeys.length} blobs under ${folder} in ${this.url}: ` +
        failed.slice(0, 3).map((e) => `${e.Key}: ${e.Code} ${e.Message}`).join('; '));
    }
    for (const objectKey of objectKeys) await this.cache.drop(this.cacheId(objectKey));
  }

  /** One place that turns "no such key" into BlobNotFoundError and names the key and bucket in other failures. */
  private async call<Output>(operation: string, key: string, request: () => Promise<Output>): Promise<Output> {
    try {
      return await request();
    } catch (error) {
      const name = (error as Error).name;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NoSuchKey' || (status === 404 && name !== 'NoSuchBucket')) throw new BlobNotFoundError(key);
      throw new Error(`S3 ${operation} of ${JSON.stringify(key)} failed on ${this.url}: ${name}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** A connection cut mid-body must not pass for a whole blob. */
function checkLength(key: string, expected: number | undefined, received: number): void {
  if (expected !== undefined && expected !== received) throw new Error(`S3 get of ${JSON.stringify(key)}: received ${received} of ${expected} bytes`);
}
