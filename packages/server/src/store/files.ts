import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheHold, type BlobStore } from './blobs/blob-store.ts';
import { openBlobStore } from './blobs/open-blob-store.ts';

/**
 * The installation's files: images, models and rendered results, stored by key (`images/<client>/<item>/….png`)
 * in a blob store — the data folder itself by default, or S3 / a shared volume (KENSA_BLOB_URL) when several
 * machines share an installation. Files on their way in are `TempFiles`'; `adopt` stores one. Keys kept in the
 * database are the same for every store, so `kensa migrate` copies them as they are.
 */
export class FileStore {
  readonly root: string;
  readonly blobs: BlobStore;

  constructor(root: string, blobUrl: string | null) {
    this.root = resolve(root);
    mkdirSync(join(this.root, 'cache'), { recursive: true });
    // Each process its own cache folder: another process's eviction must not pull files away.
    const cacheDir = join(this.root, 'cache', `blobs-${process.pid}`);
    this.blobs = openBlobStore(blobUrl ?? pathToFileURL(this.root).href, { cacheDir });
    // The embedded layout, there from the first start (people look into it; backups copy it).
    if (blobUrl === null) for (const sub of ['images', 'models', 'results']) mkdirSync(join(this.root, sub), { recursive: true });
  }

  /** Download caches of processes that are gone. Only at start. */
  removeStaleCaches(): void {
    for (const name of readdirSync(join(this.root, 'cache'))) {
      const pid = Number(/^blobs-(\d+)$/.exec(name)?.[1]);
      if (pid !== process.pid && !isRunning(pid)) rmSync(join(this.root, 'cache', name), { force: true, recursive: true });
    }
  }

  write(key: string, bytes: Uint8Array): Promise<void> {
    return this.blobs.put(key, bytes);
  }

  /** Stores a finished local file (it is consumed: moved, or uploaded and kept as the cached copy). */
  adopt(localPath: string, key: string): Promise<void> {
    return this.blobs.putFile(key, localPath);
  }

  read(key: string): Promise<Buffer> {
    return this.blobs.get(key);
  }

  /** A local file holding a stored file's bytes, for worker threads that read by path. */
  localPath(key: string): Promise<string> {
    return this.blobs.localPath(key);
  }

  /**
   * Local files for a job that reads them while it runs (training reads each image when it decodes it): with S3
   * storage they stay in the download cache, whatever other jobs download meanwhile, until `release`.
   */
  hold(): HeldFiles {
    const hold = new CacheHold();
    return { localPath: (key) => this.blobs.localPath(key, hold), release: () => this.blobs.release(hold) };
  }

  async remove(key: string | null | undefined): Promise<void> {
    if (key) await this.blobs.remove(key);
  }

  close(): Promise<void> {
    return this.blobs.close();
  }
}

export interface HeldFiles {
  localPath(key: string): Promise<string>;
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file name safe to use inside a folder (client ids may hold characters a path must not). */
export function pathSegment(value: string): string {
  const encoded = Buffer.from(value).toString('base64url');
  // File systems allow 255 bytes a name; longer ids (item ids up to 255 characters) keep a readable start
  // and a hash ("~" is not in base64url, so these never equal a short id's name).
  return encoded.length <= 200 ? encoded : `${encoded.slice(0, 100)}~${createHash('sha256').update(value).digest('hex')}`;
}
