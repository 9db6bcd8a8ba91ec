import { parentPort } from 'node:worker_threads';
import { getAlgorithm } from '../algorithms/registry.ts';
import type { ModelState, TrainingSample } from '../algorithms/types.ts';
import type { Raster } from '../image/raster.ts';
import { mapHeldOut, toPortableSized, type FromCrossFitWorker, type ToCrossFitWorker } from './cross-fit.ts';

/**
 * One half of cross-fitting on its own thread (see `crossFitOnThreads`): trains a fold's model on the samples it is
 * given, sends it, then maps its held-out samples with the model it receives. Rasters are read through the calling
 * thread, which holds the images.
 */
const port = parentPort!;
const send = (message: FromCrossFitWorker) => port.postMessage(message);

const waitingRasters = new Map<number, ((raster: Raster) => void)[]>();
let receiveModel: (state: ModelState) => void = () => {};
const otherModel = new Promise<ModelState>((resolve) => { receiveModel = resolve; });

function loadRaster(index: number): Promise<Raster> {
  return new Promise((resolve) => {
    const waiting = waitingRasters.get(index);
    if (waiting) waiting.push(resolve);
    else {
      waitingRasters.set(index, [resolve]);
      send({ type: 'load', index });
    }
  });
}

async function run(job: Extract<ToCrossFitWorker, { type: 'start' }>): Promise<void> {
  const algorithm = getAlgorithm(job.algorithmId);
  const byIndex = new Map<number, TrainingSample>();
  const indexOf = new Map<TrainingSample, number>();
  const trainPart = job.trainPart.map(({ index, good, boxes, source }) => {
    const sample: TrainingSample = { load: () => loadRaster(index), good, boxes, ...(source === undefined ? {} : { source }) };
    byIndex.set(index, sample);
    indexOf.set(sample, index);
    return sample;
  });
  const state = await algorithm.train(trainPart, job.params, {
    onProgress: (f) => send({ type: 'progress', fraction: 0.8 * f }), decided: job.decided,
    mappedLater: new Set(job.mappedLater.map((i) => byIndex.get(i)!)),
  });
  send({ type: 'trained', state });
  const model = await otherModel;
  for (const [position, { index, defectSeed }] of job.heldOut.entries()) {
    const maps = await mapHeldOut(algorithm, model, { sample: byIndex.get(index)!, defectSeed }, job.params);
    send({ type: 'maps', position, own: toPortableSized(maps.own), synthetic: maps.synthetic && toPortableSized(maps.synthetic) });
    send({ type: 'progress', fraction: 0.8 + (0.2 * (position + 1)) / job.heldOut.length });
  }
  // What the train kept for later trains goes last: the calling thread need not hold it while the maps are made.
  send({ type: 'done', kept: job.decided && algorithm.keptForLaterTrains ? algorithm.keptForLaterTrains(job.decided, (s) => indexOf.get(s)!) : null });
}

port.on('message', (message: ToCrossFitWorker) => {
  switch (message.type) {
    case 'start':
      run(message).catch((error: Error) => send({ type: 'error', name: error.name, message: error.message }));
      break;
    case 'raster': {
      const waiting = waitingRasters.get(message.index) ?? [];
      waitingRasters.delete(message.index);
      for (const resolve of waiting) resolve(message.raster);
      break;
    }
    case 'model':
      receiveModel(message.state);
      break;
  }
});
