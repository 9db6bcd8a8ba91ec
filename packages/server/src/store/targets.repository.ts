import { nowIso, type Db } from './database.ts';

export interface TargetRow {
  target_id: number;
  client_id: string;
  /** Null for the default target (shown under the catalogue's title, in the reader's language). */
  name: string | null;
  is_default: number;
  /** Broker that receives this target's finished predictions (null: the installation's, if any). */
  mqtt_url: string | null;
  created_at: string;
}

/** Inspection targets (product lines) of a client; every client has one default target. */
export class TargetsRepository {
  constructor(private readonly db: Db) {}

  /** The client's default target, created the first time it is asked for (clients made after the migration). */
  defaultOf(clientId: string): TargetRow {
    const existing = this.db.prepare('SELECT * FROM targets WHERE client_id = ? AND is_default = 1').get(clientId) as TargetRow | undefined;
    if (existing) return existing;
    this.db.prepare('INSERT OR IGNORE INTO targets (client_id, name, is_default, created_at) VALUES (?, NULL, 1, ?)').run(clientId, nowIso());
    return this.db.prepare('SELECT * FROM targets WHERE client_id = ? AND is_default = 1').get(clientId) as TargetRow;
  }

  list(clientId: string): TargetRow[] {
    this.defaultOf(clientId);
    return this.db.prepare('SELECT * FROM targets WHERE client_id = ? ORDER BY target_id').all(clientId) as TargetRow[];
  }

  findById(targetId: number): TargetRow | undefined {
    return this.db.prepare('SELECT * FROM targets WHERE target_id = ?').get(targetId) as TargetRow | undefined;
  }

  find(clientId: string, targetId: number): TargetRow | undefined {
    return this.db.prepare('SELECT * FROM targets WHERE client_id = ? AND target_id = ?').get(clientId, targetId) as TargetRow | undefined;
  }

  findByName(clientId: string, name: string): TargetRow | undefined {
    return this.db.prepare('SELECT * FROM targets WHERE client_id = ? AND name = ?').get(clientId, name) as TargetRow | undefined;
  }

  insert(clientId: string, name: string, mqttUrl: string | null): TargetRow {
    const info = this.db.prepare('INSERT INTO targets (client_id, name, is_default, mqtt_url, created_at) VALUES (?, ?, 0, ?, ?)')
      .run(clientId, name, mqttUrl, nowIso());
    return this.findById(Number(info.lastInsertRowid))!;
  }

  counts(targetId: number): { items: number; models: number } {
    const items = (this.db.prepare('SELECT COUNT(*) AS n FROM items WHERE target_id = ?').get(targetId) as { n: number }).n;
    const models = (this.db.prepare('SELECT COUNT(*) AS n FROM models WHERE target_id = ?').get(targetId) as { n: number }).n;
    return { items, models };
  }
}
