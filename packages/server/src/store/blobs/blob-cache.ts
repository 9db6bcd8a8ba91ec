import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

const PARTIAL_SUFFIX = '.partial';

export interface BlobCacheStats {
  hits: number;
  downloads: number;
  evictions: number;
  files: number;
  bytes: number;
}

/**
 * Local copies of remote blobs, for code that reads by path (worker threads). Bounded in bytes; the least
 * recently used files are removed first. Blobs are written once, so a copy never needs revalidating.
 * A file handed out may be evicted by a later call, unless it was asked for with a `CacheHold`: a job that reads its
 * files while it runs (training reads each image when it decodes it) holds them, and they stay, past the bound if
 * need be, until it releases the hold.
 */
export class BlobCache {
  /** File name -> size, in least- to most-recently-used order (a Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  /** File name -> how many holds keep it. */
  private readonly held = new Map<string, number>();
  private readonly downloads = new Map<string, Promise<string>>();
  private totalBytes = 0;
  private readonly counts = { hits: 0, downloads: 0, evictions: 0 };

  constructor(readonly dir: string, readonly maxBytes: number = DEFAULT_CACHE_BYTES) {
    if (!(maxBytes > 0)) throw new Error(`blob cache bound must be a positive number of bytes, not ${maxBytes}`);
    mkdirSync(dir, { recursive: true });
    // A restart keeps what earlier runs downloaded (still valid) and drops what they left half written.
    const kept: { name: string; size: number; used: number }[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.endsWith(PARTIAL_SUFFIX)) {
        rmSync(path, { force: true });
        continue;
      }
      const info = statSync(path, { throwIfNoEntry: false });
      if (info?.isFile()) kept.push({ name, size: info.size, used: info.mtimeMs });
    }
    for (const file of kept.sort((a, b) => a.used - b.used)) this.remember(file.name, file.size);
  }

  /**
   * The cached file for `id`, calling `download(temporaryPath)` to fill it if needed (once for concurrent callers).
   * With a hold, the file is kept until `release(hold)`.
   */
  async get(id: string, download: (temporaryPath: string) => Promise<void>, hold?: CacheHold): Promise<string> {
    const name = fileName(id);
    // Held before anything is awaited: another call's eviction may run while this one waits.
    if (hold && !hold.names.has(name)) {
      hold.names.add(name);
      this.held.set(name, (this.held.get(name) ?? 0) + 1);
    }
    return this.getNamed(name, download);
  }

  /** Lets go of a hold's files; those beyond the bound go now. */
  async release(hold: CacheHold): Promise<void> {
    for (const name of hold.names) {
      const count = (this.held.get(name) ?? 1) - 1;
      if (count > 0) this.held.set(name, count);
      else this.held.delete(name);
    }
    hold.names.clear();
    await this.evict(null);
  }

  private async getNamed(name: string, download: (temporaryPath: string) => Promise<void>): Promise<string> {
    const path = join(this.dir, name);
    if (this.entries.has(name)) {
      if (await stat(path).then((s) => s.isFile(), () => false)) {
        this.counts.hits++;
        this.touch(name);
        return path;
      }
      this.forget(name); // removed behind our back (someone cleaned the folder)
    }
    const running = this.downloads.get(name);
    if (running) return running;
    const started = this.fetch(name, path, download).finally(() => this.downloads.delete(name));
    this.downloads.set(name, started);
    return started;
  }

  /** Takes a local file as the cached copy of `id` (after an upload); a file on another file system is deleted instead. */
  async adopt(id: string, localPath: string): Promise<void> {
    const name = fileName(id);
    try {
      const { size } = await stat(localPath);
      await rename(localPath, join(this.dir, name));
      this.forget(name);
      this.remember(name, size);
      await this.evict(name);
    } catch {
      await unlink(localPath).catch(() => {});
    }
  }

  async drop(id: string): Promise<void> {
    const name = fileName(id);
    this.forget(name);
    await unlink(join(this.dir, name)).catch(() => {});
  }

  stats(): BlobCacheStats {
    return { ...this.counts, files: this.entries.size, bytes: this.totalBytes };
  }

  private async fetch(name: string, path: string, download: (temporaryPath: string) => Promise<void>): Promise<string> {
    const temporary = join(this.dir, `${randomBytes(8).toString('hex')}${PARTIAL_SUFFIX}`);
    try {
      await download(temporary);
      const { size } = await stat(temporary);
      await rename(temporary, path);
      this.counts.downloads++;
      this.forget(name);
      this.remember(name, size);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await this.evict(name);
    return path;
  }

  /** Removes least recently used files until the cache fits, never the one just asked for nor a held one. */
  private async evict(keep: string | null): Promise<void> {
    for (const [name] of this.entries) {
      if (this.totalBytes <= this.maxBytes) return;
      if (name === keep || this.held.has(name)) continue;
      this.forget(name);
      this.counts.evictions++;
      await unlink(join(this.dir, name)).catch(() => {});
    }
  }

  private touch(name: string): void {
    const size = this.entries.get(name)!;
    this.entries.delete(name);
    this.entries.set(name, size);
  }

  private remember(name: string, size: number): void {
    this.entries.set(name, size);
    this.totalBytes += size;
  }

  private forget(name: string): void {
    const size = this.entries.get(name);
    if (size === undefined) return;
    this.entries.delete(name);
    this.totalBytes -= size;
  }
}

/** The files one reader keeps in the cache while it works (see `BlobCache.get`). */
export class CacheHold {
  readonly names = new Set<string>();
}

/** A flat, fixed-length name per id; the extension stays for readers that look at it (".png", ".json"). */
function fileName(id: string): string {
  const extension = extname(id);
  const hash = createHash('sha256').update(id).digest('hex');
  return /^\.[A-Za-z0-9]{1,10}$/.test(extension) ? hash + extension : hash;
}
