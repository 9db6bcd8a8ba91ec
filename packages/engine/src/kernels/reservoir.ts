import type { Random } from './random.ts';

/**
 * A seeded reservoir sample of fixed-length rows (Vitter's algorithm R): rows are offered one at a time, and at every
 * moment each row offered so far is kept with the same probability, capacity / offered. Memory is the capacity,
 * however many rows pass: what lets training stream thousands of images. Each kept row carries a tag (e.g. its image).
 */
export class RowReservoir {
  readonly rows: Float32Array;
  readonly tags: Int32Array;
  private offered = 0;

  constructor(readonly capacity: number, readonly width: number, private readonly random: Random) {
    this.rows = new Float32Array(capacity * width);
    this.tags = new Int32Array(capacity);
  }

  /** Rows kept so far (the capacity once that many were offered). */
  get size(): number {
    return Math.min(this.offered, this.capacity);
  }

  /**
   * Offers one row: returns the slot to write its `width` values into (at `rows[slot * width]`), or −1 when the row is
   * not kept. Claiming a slot before the row exists lets a caller write it in place, without a copy.
   */
  claim(tag: number): number {
    const slot = this.offered < this.capacity ? this.offered : this.random.int(this.offered + 1);
    this.offered++;
    if (slot >= this.capacity) return -1;
    this.tags[slot] = tag;
    return slot;
  }

  /** The kept rows and tags (views, in slot order). */
  kept(): { rows: Float32Array; tags: Int32Array } {
    return { rows: this.rows.subarray(0, this.size * this.width), tags: this.tags.subarray(0, this.size) };
  }
}
