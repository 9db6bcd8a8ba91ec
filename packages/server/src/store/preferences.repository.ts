import { sql, type Database } from './database.ts';

export interface Preferences {
  /** The product line the client last chose; null: none. */
  target_id: number | null;
}

/**
 * A client's preferences, one JSON row per client in the installation's `settings` table (`preferences:<client>`),
 * which every API server of a scale-out installation shares.
 */
export class PreferencesRepository {
  constructor(private readonly db: Database) {}

  /** What was stored, as stored (it may name a target that is gone); nothing stored: `{}`. */
  async find(clientId: string): Promise<Partial<Preferences>> {
    const row = await this.db.get<{ value: string }>(sql`SELECT value FROM settings WHERE name = ${keyOf(clientId)}`);
    return row ? JSON.parse(row.value) as Partial<Preferences> : {};
  }

  async save(clientId: string, preferences: Preferences): Promise<void> {
    await this.db.run(sql`INSERT INTO settings (name, value) VALUES (${keyOf(clientId)}, ${JSON.stringify(preferences)})
      ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
  }
}

const keyOf = (clientId: string) => `preferences:${clientId}`;
