import { EventEmitter } from 'node:events';
import type { Message } from '../i18n/index.ts';

/** Job progress as it happens, for server-sent events (GET /v1/events); each event belongs to one client. */
export type KensaEvent =
  | { type: 'model'; clientId: string; model_id: number; status: string; progress: number; status_text: Message | null }
  | { type: 'item'; clientId: string; item_id: string; status: 'pending' | 'done' };

export class EventsService {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open event stream.
    this.emitter.setMaxListeners(0);
  }

  publish(event: KensaEvent): void {
    this.emitter.emit('event', event);
  }

  /** Calls `listener` with the client's events until the returned function is called. */
  subscribe(clientId: string, listener: (event: KensaEvent) => void): () => void {
    const filtered = (event: KensaEvent) => { if (event.clientId === clientId) listener(event); };
    this.emitter.on('event', filtered);
    return () => this.emitter.off('event', filtered);
  }
}
