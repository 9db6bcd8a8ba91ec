import { parentPort } from 'node:worker_threads';
import { WORKER_HANDLERS } from './handlers.ts';
import type { FromWorker, ToWorker, WorkerJobName } from './protocol.ts';

/** Worker-thread entry: runs one heavy job at a time (decode, train, predict, render) off the event loop. */
const port = parentPort!;
const controllers = new Map<number, AbortController>();
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', async (message: ToWorker) => {
  if (message.type === 'abort') {
    controllers.get(message.jobId)?.abort();
    return;
  }
  const handler = WORKER_HANDLERS[message.name as WorkerJobName];
  if (!handler) {
    send({ type: 'failed', jobId: message.jobId, error: { name: 'UnknownJob', message: `No worker handler for job ${message.name}` } });
    return;
  }
  const controller = new AbortController();
  controllers.set(message.jobId, controller);
  let lastProgress = 0;
  try {
    const output = await handler(message.input as never, {
      signal: controller.signal,
      onProgress: (fraction, stage, values) => {
        // Throttled: progress is stored in the database by the main thread.
        const now = Date.now();
        if (now - lastProgress < 250 && fraction < 1) return;
        lastProgress = now;
        send({ type: 'progress', jobId: message.jobId, fraction, stage, values });
      },
    });
    send({ type: 'done', jobId: message.jobId, output });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    send({ type: 'failed', jobId: message.jobId, error: { name: e.name, message: e.message } });
  } finally {
    controllers.delete(message.jobId);
  }
});
send({ type: 'ready' });
