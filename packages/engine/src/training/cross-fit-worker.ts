import { parentPort } from 'node:worker_threads';
import { getAlgorithm } from '../algorithms/registry.ts';
import type { ModelState, TrainingSample } from '../algorithms/types.ts';
import { RasterRequests } from './worker-rasters.ts';
import { mapHeldOut, toPortableSized, type FromCrossFitWorker, type ToCrossFitWorker } from './cross-fit.ts';

/**
 * One half of cross-fitting on its own thread (see `crossFitOnThreads`): trains a fold's model on the samples it is
 * given, sends it, then maps its held-out samples with the model it receives. Rasters are read through the calling
 * thread, which holds the images.
 */
const port = parentPort!;
const send = (message: FromCrossFitWorker) => port.postMessage(message);

const rasters = new RasterRequests((index) => send({ type: 'load', index }));
let receiveModel: (state: ModelState) => void = () => {};
const otherModel = new Promise<ModelState>((resolve) => { receiveModel = resolve; });

async function run(job: Extract<ToCrossFitWorker, { type: 'start' }>): Promise<void> {
  const algorithm = getAlgorithm(job.algorithmId);
  const byIndex = new Map<number, TrainingSample>();
  const indexOf = new Map<TrainingSample, number>();
  const trainPart = job.trainPart.map((portable) => {
    const sample = rasters.sampleOf(portable);
    byIndex.set(portable.index, sample);
    indexOf.set(sample, portable.index);
    return sample;
  });
  const state = await algorithm.train(trainPart, job.params, {
    onProgress: (f) => send({ type: 'progress', fraction: 0.8 * f }), decided: job.decided,
    mappedLater: new Set(job.mappedLater.map((i) => byIndex.get(i)!)),
  });
  // What the train kept for later trains goes with its model: the final train may start while the maps are made.
  send({ type: 'trained', state, kept: job.decided && algorithm.keptForLaterTrains ? algorithm.keptForLaterTrains(job.decided, (s) => indexOf.get(s)!) : null });
  const model = await otherModel;
  for (const [position, { index, defectSeed }] of job.heldOut.entries()) {
    const maps = await mapHeldOut(algorithm, model, { sample: byIndex.get(index)!, defectSeed }, job.params);
    send({ type: 'maps', position, own: toPortableSized(maps.own), synthetic: maps.synthetic && toPortableSized(maps.synthetic) });
    send({ type: 'progress', fraction: 0.8 + (0.2 * (position + 1)) / job.heldOut.length });
  }
  send({ type: 'done' });
}

port.on('message', (message: ToCrossFitWorker) => {
  switch (message.type) {
    case 'start':
      run(message).catch((error: Error) => send({ type: 'error', name: error.name, message: error.message }));
      break;
    case 'raster':
      rasters.received(message.index, message.raster);
      break;
    case 'model':
      receiveModel(message.state);
      break;
  }
});
