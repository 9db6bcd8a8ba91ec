import { parentPort } from 'node:worker_threads';
import { fromPortableCrossFit, validate, type PortableCrossFit, type ValidationSettings } from './validation.ts';

/** `validateOnThread`'s worker: validates the cross-fit it is sent and sends the validation back. */
const port = parentPort!;
port.once('message', ({ fit, settings }: { fit: PortableCrossFit; settings: ValidationSettings }) => {
  try {
    port.postMessage({ validation: validate(fromPortableCrossFit(fit), settings) });
  } catch (error) {
    const { name, message } = error as Error;
    port.postMessage({ error: { name, message } });
  }
});
