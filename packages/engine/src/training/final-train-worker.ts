import { parentPort } from 'node:worker_threads';
import { getAlgorithm } from '../algorithms/registry.ts';
import { RasterRequests } from './worker-rasters.ts';
import type { FromFinalTrainWorker, ToFinalTrainWorker } from './final-train.ts';

/**
 * The final model's train on its own thread (see `trainFinalOnThread`): adopts what the cross-fitting folds kept for it,
 * trains on every sample, and sends the model. Rasters are read through the calling thread, which holds the images.
 */
const port = parentPort!;
const send = (message: FromFinalTrainWorker) => port.postMessage(message);
const rasters = new RasterRequests((index) => send({ type: 'load', index }));

async function run(job: Extract<ToFinalTrainWorker, { type: 'start' }>): Promise<void> {
  const algorithm = getAlgorithm(job.algorithmId);
  const samples = job.samples.map((portable) => rasters.sampleOf(portable));
  for (const kept of job.kept) algorithm.adoptKeptForLaterTrains!(job.decided, kept, (i) => samples[i]);
  const state = await algorithm.train(samples, job.params, {
    onProgress: (fraction, step, values) => send({ type: 'progress', fraction, step, values }),
    decided: job.decided,
    mappedLater: new Set(job.mappedLater.map((i) => samples[i])),
  });
  send({ type: 'trained', state });
}

port.on('message', (message: ToFinalTrainWorker) => {
  switch (message.type) {
    case 'start':
      run(message).catch((error: Error) => send({ type: 'error', name: error.name, message: error.message }));
      break;
    case 'raster':
      rasters.received(message.index, message.raster);
      break;
  }
});
