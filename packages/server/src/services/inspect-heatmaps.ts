import { randomBytes } from 'node:crypto';
import { pathSegment, type FileStore } from '../store/files.ts';

/** How long an unstored inspection's heatmap stays retrievable, and how much of them memory may hold. */
export const INSPECT_HEATMAP_SECONDS = 15 * 60;
export const INSPECT_HEATMAP_MAX_BYTES = 64 * 1024 * 1024;
export const INSPECT_HEATMAP_MAX_ENTRIES = 512;

interface Entry {
  clientId: string;
  png: Uint8Array;
  expiresAt: number;
}

/**
 * Heatmaps of `POST /inspect`: kept in memory for a short while under unguessable ids, so that the answer can
 * point at them without writing anything to the data folder. Bounded by count, bytes and age; the oldest go first
 * (a Map iterates in insertion order, and every entry lives equally long).
 */
export class InspectHeatmapCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly ttlMs = INSPECT_HEATMAP_SECONDS * 1000,
    private readonly maxBytes = INSPECT_HEATMAP_MAX_BYTES,
    private readonly maxEntries = INSPECT_HEATMAP_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a PNG for a client; returns its id (128 random bits, URL-safe). */
  put(clientId: string, png: Uint8Array): string {
    this.evictExpired();
    const id = randomBytes(16).toString('base64url');
    this.entries.set(id, { clientId, png, expiresAt: this.now() + this.ttlMs });
    this.bytes += png.byteLength;
    while (this.entries.size > this.maxEntries || (this.bytes > this.maxBytes && this.entries.size > 1)) this.removeOldest();
    return id;
  }

  /** The PNG if it exists, has not expired and belongs to this client; otherwise null. */
  get(clientId: string, id: string): Uint8Array | null {
    this.evictExpired();
    const entry = this.entries.get(id);
    return entry && entry.clientId === clientId ? entry.png : null;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.delete(id, entry);
    }
  }

  private removeOldest(): void {
    const first = this.entries.entries().next().value;
    if (first) this.delete(first[0], first[1]);
  }

  private delete(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.bytes -= entry.png.byteLength;
  }
}

/** Where inspection heatmaps wait: this process's memory (embedded) or the shared storage (scale-out). */
export interface InspectHeatmapStore {
  put(clientId: string, png: Uint8Array): string | Promise<string>;
  get(clientId: string, id: string): Uint8Array | null | Promise<Uint8Array | null>;
}

/**
 * Scale-out: the answer's heatmap URL may reach any API server, so heatmaps wait in the shared storage under
 * `inspect/<client>/<expiry>-<random>.png`. The expiry is in the id, so a read needs no index; expired files are
 * swept now and then by whichever server stores new ones.
 */
export class SharedInspectHeatmaps implements InspectHeatmapStore {
  private lastSweep = 0;

  constructor(
    private readonly files: { write(key: string, bytes: Uint8Array): Promise<void>; read(key: string): Promise<Buffer>; remove(key: string): Promise<void>;
      blobs: { list(prefix: string): AsyncIterable<{ key: string }> } },
    private readonly keyOf: (clientId: string, id: string) => string,
    private readonly ttlMs = INSPECT_HEATMAP_SECONDS * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async put(clientId: string, png: Uint8Array): Promise<string> {
    const id = `${(this.now() + this.ttlMs).toString(36)}-${randomBytes(16).toString('base64url')}`;
    await this.files.write(this.keyOf(clientId, id), png);
    if (this.now() - this.lastSweep > 60_000) {
      this.lastSweep = this.now();
      void this.sweep().catch(() => {});
    }
    return id;
  }

  async get(clientId: string, id: string): Promise<Uint8Array | null> {
    const expiresAt = expiryOf(id);
    if (expiresAt === null || expiresAt <= this.now()) return null;
    return this.files.read(this.keyOf(clientId, id)).catch(() => null);
  }

  private async sweep(): Promise<void> {
    for await (const entry of this.files.blobs.list('inspect')) {
      const expiresAt = expiryOf(entry.key.slice(entry.key.lastIndexOf('/') + 1).replace(/\.png$/, ''));
      if (expiresAt !== null && expiresAt <= this.now()) await this.files.remove(entry.key);
    }
  }
}

function expiryOf(id: string): number | null {
  const match = /^([0-9a-z]{1,12})-[A-Za-z0-9_-]{22}$/.exec(id);
  return match ? parseInt(match[1], 36) : null;
}

/** The store an installation uses: memory when one API server answers, the shared storage in scale-out. */
export function openInspectHeatmaps(files: FileStore, shared: boolean): InspectHeatmapStore {
  return shared ? new SharedInspectHeatmaps(files, (clientId, id) => `inspect/${pathSegment(clientId)}/${id}.png`) : new InspectHeatmapCache();
}
