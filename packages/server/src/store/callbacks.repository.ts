import { nowIso, sql, type Database } from './database.ts';

export interface CallbackRow {
  callback_id: number;
  client_id: string;
  url: string;
  secret: string;
  /** Only this model's predictions; null: every model of the client. */
  model_id: number | null;
  created_at: string;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** A notification in the outbox (`callback_deliveries`) and where its delivery stands. */
export interface DeliveryRow {
  delivery_id: number;
  callback_id: number;
  /** The JSON sent, kept as text: its exact bytes are what the signature covers. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due, or (while `sending`) when a sender that died is given up (ms since the epoch). */
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** A delivery as listed: its row, with what the notification was about read from its body. */
export interface ListedDelivery extends DeliveryRow {
  notification: { event: string | null; item_id: string | null; model_id: number | null };
}

/** A delivery due to be sent, with where to and the key to sign it with. */
export type DueDelivery = DeliveryRow & { url: string; secret: string };

/** Callbacks of clients and the outbox of their deliveries, which every API server and worker shares. */
export class CallbacksRepository {
  constructor(private readonly db: Database) {}

  async insert(clientId: string, url: string, secret: string, modelId: number | null): Promise<CallbackRow> {
    return (await this.db.get<CallbackRow>(sql`INSERT INTO callbacks (client_id, url, secret, model_id, created_at)
      VALUES (${clientId}, ${url}, ${secret}, ${modelId}, ${nowIso()}) RETURNING *`))!;
  }

  list(clientId: string): Promise<CallbackRow[]> {
    return this.db.all<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId} ORDER BY callback_id`);
  }

  find(clientId: string, callbackId: number): Promise<CallbackRow | undefined> {
    return this.db.get<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId} AND callback_id = ${callbackId}`);
  }

  /** Whether a callback was removed. */
  async delete(clientId: string, callbackId: number): Promise<boolean> {
    return await this.db.run(sql`DELETE FROM callbacks WHERE client_id = ${clientId} AND callback_id = ${callbackId}`) > 0;
  }

  /** The client's callbacks for this model's predictions: those of every model, and those of this one. */
  forModel(clientId: string, modelId: number): Promise<CallbackRow[]> {
    return this.db.all<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId}
      AND (model_id IS NULL OR model_id = ${modelId})`);
  }

  /** How many deliveries of a callback stand at each status. */
  async deliveryCounts(callbackId: number): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.db.all<{ status: DeliveryStatus; n: number }>(sql`SELECT status, COUNT(*) AS n FROM callback_deliveries
      WHERE callback_id = ${callbackId} GROUP BY status`);
    const count = (status: DeliveryStatus) => rows.find((c) => c.status === status)?.n ?? 0;
    return { pending: count('pending'), sending: count('sending'), delivered: count('delivered'), failed: count('failed') };
  }

  /** The newest deliveries of a callback. */
  async deliveries(callbackId: number, limit: number): Promise<ListedDelivery[]> {
    const rows = await this.db.all<DeliveryRow>(sql`SELECT * FROM callback_deliveries WHERE callback_id = ${callbackId}
      ORDER BY delivery_id DESC LIMIT ${limit}`);
    return rows.map((row) => {
      const body = JSON.parse(row.body) as { event?: string; item_id?: string; model_id?: number };
      return { ...row, notification: { event: body.event ?? null, item_id: body.item_id ?? null, model_id: body.model_id ?? null } };
    });
  }

  /** One notification for each of these callbacks, due now, in one transaction. */
  async enqueue(callbackIds: number[], body: string, dueAt: number): Promise<void> {
    await this.db.transaction(async () => {
      for (const callbackId of callbackIds) {
        await this.db.run(sql`INSERT INTO callback_deliveries (callback_id, body, next_attempt_at, created_at)
          VALUES (${callbackId}, ${body}, ${dueAt}, ${nowIso()})`);
      }
    });
  }

  /** Deliveries waiting whose time has come (or whose sender died), the most overdue first. */
  due(now: number, limit: number): Promise<DueDelivery[]> {
    return this.db.all<DueDelivery>(sql`SELECT d.*, c.url, c.secret FROM callback_deliveries d
      JOIN callbacks c ON c.callback_id = d.callback_id WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ${now}
      ORDER BY d.next_attempt_at, d.delivery_id LIMIT ${limit}`);
  }

  /**
   * Takes a due delivery for one attempt, until `deadline`: false when another sender took it first (its row changed
   * since it was read). Several servers and workers send from one outbox; the one whose update lands owns the attempt.
   */
  async claim(delivery: DeliveryRow, deadline: number): Promise<boolean> {
    return await this.db.run(sql`UPDATE callback_deliveries SET status = 'sending', next_attempt_at = ${deadline}
      WHERE delivery_id = ${delivery.delivery_id} AND status = ${delivery.status} AND next_attempt_at = ${delivery.next_attempt_at}`) > 0;
  }

  /** When the next waiting delivery falls due after `now` (null: none waits). */
  async nextDueAfter(now: number): Promise<number | null> {
    const next = await this.db.get<{ at: number | null }>(sql`SELECT MIN(next_attempt_at) AS at FROM callback_deliveries
      WHERE status IN ('pending', 'sending') AND next_attempt_at > ${now}`);
    return next?.at ?? null;
  }

  async markDelivered(deliveryId: number, attempt: number, status: number | null): Promise<void> {
    await this.db.run(sql`UPDATE callback_deliveries SET status = 'delivered', attempts = ${attempt}, last_status = ${status},
      last_error = NULL, delivered_at = ${nowIso()} WHERE delivery_id = ${deliveryId}`);
  }

  /** A failed attempt: waiting again until `nextAttemptAt`, or given up (`failed`). */
  async markAttemptFailed(deliveryId: number, attempt: number, failure: { status: number | null; error: string }, next: { giveUp: boolean; at: number }): Promise<void> {
    await this.db.run(sql`UPDATE callback_deliveries SET status = ${next.giveUp ? 'failed' : 'pending'}, attempts = ${attempt},
      last_status = ${failure.status}, last_error = ${failure.error}, next_attempt_at = ${next.at} WHERE delivery_id = ${deliveryId}`);
  }
}
