import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Message } from '../i18n/index.ts';

/** Job progress as it happens, for server-sent events (GET /v1/events); each event belongs to one client. */
export type KensaEvent =
  | { type: 'model'; clientId: string; model_id: number; status: string; progress: number; status_text: Message | null }
  | { type: 'item'; clientId: string; item_id: string; status: 'pending' | 'done' };

/**
 * Events from where they happen to the event streams of the API servers. Embedded: within the process. Scale-out:
 * jobs run in worker processes, so events travel by PostgreSQL's NOTIFY on a channel of the installation, which
 * every process LISTENs to (an event is a few hundred bytes; NOTIFY carries up to 8,000).
 */
export class EventsService {
  private readonly emitter = new EventEmitter();
  private listener: pg.Client | null = null;
  private notifier: ((payload: string) => Promise<void>) | null = null;
  private channel = '';
  private connectionString = '';
  private closed = false;

  constructor() {
    // One listener per open event stream.
    this.emitter.setMaxListeners(0);
  }

  /**
   * Shares events with every process of the installation through its PostgreSQL. A listening connection that
   * drops (a database restart, a network cut) is opened again, waiting 1 s, 2 s, … up to 30 s between tries;
   * events sent while it was down are not replayed (the rows they describe are right, and clients re-read them).
   */
  async connectPostgres(connectionString: string, schema: string | null, notify: (channel: string, payload: string) => Promise<void>): Promise<void> {
    this.channel = `kensa_events_${schema ?? 'public'}`;
    this.connectionString = connectionString;
    await this.listen();
    this.notifier = (payload) => notify(this.channel, payload);
  }

  /** How events reach this process: within it (embedded), or by PostgreSQL, connected or waiting to reconnect. */
  get delivery(): 'local' | 'connected' | 'reconnecting' {
    if (!this.connectionString) return 'local';
    return this.listener ? 'connected' : 'reconnecting';
  }

  private async listen(): Promise<void> {
    // Timeouts, so that a try against an unreachable host (no answer, not a refusal) fails and the next one comes.
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
    client.on('error', () => {}); // 'end' follows, and reconnects
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      try {
        this.emitter.emit('event', JSON.parse(message.payload) as KensaEvent);
      } catch { /* not ours */ }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      client.end().catch(() => {}); // not awaited: ending a client that never connected may never settle
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    client.on('end', () => {
      if (this.listener !== client) return;
      this.listener = null;
      this.listenAgain(1000);
    });
    this.listener = client;
  }

  private listenAgain(delayMs: number): void {
    if (this.closed) return;
    setTimeout(() => {
      this.listen().catch(() => this.listenAgain(Math.min(delayMs * 2, 30_000)));
    }, delayMs).unref();
  }

  publish(event: KensaEvent): void {
    if (this.notifier) void this.notifier(JSON.stringify(event)).catch(() => {});
    else this.emitter.emit('event', event);
  }

  /** Calls `listener` with the client's events until the returned function is called. */
  subscribe(clientId: string, listener: (event: KensaEvent) => void): () => void {
    const filtered = (event: KensaEvent) => { if (event.clientId === clientId) listener(event); };
    this.emitter.on('event', filtered);
    return () => this.emitter.off('event', filtered);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notifier = null;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
  }
}
