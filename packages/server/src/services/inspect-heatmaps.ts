import { randomBytes } from 'node:crypto';

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
