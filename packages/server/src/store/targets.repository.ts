import { nowIso, sql, type Database } from './database.ts';

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
  constructor(private readonly db: Database) {}

  /** The client's default target, created the first time it is asked for (clients made after the migration). */
  async defaultOf(clientId: string): Promise<TargetRow> {
    const existing = await this.db.get<TargetRow>(sql`SELECT * FROM targets WHERE client_id = ${clientId} AND is_default = 1`);
    if (existing) return existing;
    await this.db.run(sql`INSERT INTO targets (client_id, name, is_default, created_at) VALUES (${clientId}, NULL, 1, ${nowIso()})
      ON CONFLICT DO NOTHING`);
    return (await this.db.get<TargetRow>(sql`SELECT * FROM targets WHERE client_id = ${clientId} AND is_default = 1`))!;
  }

  async list(clientId: string): Promise<TargetRow[]> {
    await this.defaultOf(clientId);
    return this.db.all<TargetRow>(sql`SELECT * FROM targets WHERE client_id = ${clientId} ORDER BY target_id`);
  }

  findById(targetId: number): Promise<TargetRow | undefined> {
    return this.db.get<TargetRow>(sql`SELECT * FROM targets WHERE target_id = ${targetId}`);
  }

  find(clientId: string, targetId: number): Promise<TargetRow | undefined> {
    return this.db.get<TargetRow>(sql`SELECT * FROM targets WHERE client_id = ${clientId} AND target_id = ${targetId}`);
  }

  findByName(clientId: string, name: string): Promise<TargetRow | undefined> {
    return this.db.get<TargetRow>(sql`SELECT * FROM targets WHERE client_id = ${clientId} AND name = ${name}`);
  }

  async insert(clientId: string, name: string, mqttUrl: string | null): Promise<TargetRow> {
    return (await this.db.get<TargetRow>(sql`INSERT INTO targets (client_id, name, is_default, mqtt_url, created_at)
      VALUES (${clientId}, ${name}, 0, ${mqttUrl}, ${nowIso()}) RETURNING *`))!;
  }

  async delete(targetId: number): Promise<void> {
    await this.db.run(sql`DELETE FROM targets WHERE target_id = ${targetId}`);
  }

  /** Whether a target (of any client) still publishes to this broker. */
  async anyUsingBroker(mqttUrl: string): Promise<boolean> {
    return (await this.db.get(sql`SELECT 1 AS found FROM targets WHERE mqtt_url = ${mqttUrl} LIMIT 1`)) !== undefined;
  }

  async counts(targetId: number): Promise<{ items: number; models: number }> {
    const items = (await this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM items WHERE target_id = ${targetId}`))!.n;
    const models = (await this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM models WHERE target_id = ${targetId}`))!.n;
    return { items, models };
  }
}
