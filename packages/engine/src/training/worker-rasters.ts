import type { Worker } from 'node:worker_threads';
import type { TrainingSample } from '../algorithms/types.ts';
import type { Raster } from '../image/raster.ts';
import type { PortableSample } from './cross-fit.ts';

/**
 * Training workers read rasters through the calling thread, which holds the images: a worker asks with a `load` message
 * naming the sample's index, and the calling thread answers with a `raster` message (`sendRaster`).
 */

/** In a worker: each raster asked for once however many wait for it, the `raster` answers handed to those waiting. */
export class RasterRequests {
  private readonly waiting = new Map<number, ((raster: Raster) => void)[]>();

  constructor(private readonly ask: (index: number) => void) {}

  load(index: number): Promise<Raster> {
    return new Promise((resolve) => {
      const waiting = this.waiting.get(index);
      if (waiting) waiting.push(resolve);
      else {
        this.waiting.set(index, [resolve]);
        this.ask(index);
      }
    });
  }

  /** A sample as the worker sees it: its raster read through the calling thread. */
  sampleOf({ index, good, boxes, source }: PortableSample): TrainingSample {
    return { load: () => this.load(index), good, boxes, ...(source === undefined ? {} : { source }) };
  }

  received(index: number, raster: Raster): void {
    const waiting = this.waiting.get(index) ?? [];
    this.waiting.delete(index);
    for (const resolve of waiting) resolve(raster);
  }
}

/** On the calling thread: reads a sample's raster and sends it to the worker that asked (moved, when read afresh). */
export function sendRaster(worker: Worker, samples: TrainingSample[], index: number, fail: (error: Error) => void): void {
  samples[index].load().then(
    (raster) => worker.postMessage({ type: 'raster', index, raster }, samples[index].fresh ? [raster.data.buffer as ArrayBuffer] : []),
    fail,
  );
}
