import { TrainingAbortedError, type AlgorithmDefinition, type ModelState, type StateValue, type TrainContext, type TrainingSample } from '../algorithms/types.ts';
import type { Raster } from '../image/raster.ts';
import type { ParamValues } from '../params/schema.ts';
import type { StageValues } from './progress.ts';
import type { PortableSample } from './cross-fit.ts';
import { startTypeScriptWorker } from './typescript-worker.ts';
import { sendRaster } from './worker-rasters.ts';

/**
 * The final model trained on a thread of its own while the cross-fitting workers map their held-out images. An algorithm
 * whose final train draws on what the folds kept (`keptForLaterTrains`; PS: their patch reservoirs, so it reads no image)
 * can start it as soon as both folds have trained, instead of after the maps and beside the short validation: on the
 * magnetic tiles the final model's coreset alone kept one core busy and the other idle for 15–20 s. The same model as
 * on the calling thread (`test/cross-fit-threads.test.ts`).
 */
export interface FinalTrain {
  state: Promise<ModelState>;
  /** Passes the train's progress on from now: its latest report first, then each one as it comes. */
  follow(report: TrainContext['onProgress']): void;
  /** Stops the train (the training failed elsewhere). */
  stop(): Promise<void>;
}

/** What the calling thread sends the final train's worker. */
export type ToFinalTrainWorker =
  | {
    type: 'start'; algorithmId: string; params: ParamValues; decided: ModelState;
    /** Every training sample, and which of them the final model maps later (`mappedLater`, by index). */
    samples: PortableSample[]; mappedLater: number[];
    /** What the folds kept for later trains, in the order the calling thread would have adopted it. */
    kept: StateValue[];
  }
  | { type: 'raster'; index: number; raster: Raster };

/** What the final train's worker sends back. */
export type FromFinalTrainWorker =
  | { type: 'load'; index: number }
  | { type: 'progress'; fraction: number; step?: Parameters<TrainContext['onProgress']>[1]; values?: StageValues }
  | { type: 'trained'; state: ModelState }
  | { type: 'error'; name: string; message: string };

export function trainFinalOnThread(
  algorithm: AlgorithmDefinition<ModelState>, samples: TrainingSample[], params: ParamValues,
  options: { decided: ModelState; kept: StateValue[]; mappedLater: TrainingSample[]; signal?: AbortSignal },
): FinalTrain {
  const worker = startTypeScriptWorker(new URL('./final-train-worker.ts', import.meta.url));
  const indexOf = new Map(samples.map((s, i) => [s, i]));
  let latest: Parameters<TrainContext['onProgress']> | null = null;
  let report: TrainContext['onProgress'] | null = null;
  const settled = new AbortController();
  const state = new Promise<ModelState>((resolve, reject) => {
    options.signal?.addEventListener('abort', () => reject(new TrainingAbortedError()), { once: true, signal: settled.signal });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the final train's worker stopped (exit code ${code})`)));
    worker.on('message', (message: FromFinalTrainWorker) => {
      switch (message.type) {
        case 'load':
          sendRaster(worker, samples, message.index, reject);
          break;
        case 'progress':
          latest = [message.fraction, message.step, message.values];
          report?.(...latest);
          break;
        case 'trained':
          resolve(message.state);
          break;
        case 'error':
          reject(Object.assign(new Error(message.message), { name: message.name }));
          break;
      }
    });
  }).finally(() => {
    settled.abort();
    return worker.terminate();
  });
  // Awaited after the cross-fit: a failure meanwhile must not count as an unhandled rejection.
  state.catch(() => {});
  worker.postMessage({
    type: 'start', algorithmId: algorithm.id, params, decided: options.decided, kept: options.kept,
    samples: samples.map((s, index) => ({ index, good: s.good, boxes: s.boxes, source: s.source })),
    mappedLater: options.mappedLater.map((s) => indexOf.get(s)!),
  } satisfies ToFinalTrainWorker);
  return {
    state,
    follow(next) {
      report = next;
      if (latest) next(...latest);
    },
    stop: () => worker.terminate().then(() => {}),
  };
}
