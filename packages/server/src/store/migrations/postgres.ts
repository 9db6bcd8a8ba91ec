import type pg from 'pg';
import { POSTGRES } from './dialect.ts';
import { versionsOf } from './steps.ts';

/** PostgreSQL's schema versions (steps.ts), in order: index 0 brings `kensa_schema.version` from 0 to 1. */
export const POSTGRES_MIGRATIONS: string[] = versionsOf(POSTGRES);

/** Applies the steps not yet applied, each in a transaction, under an advisory lock (servers may start together). */
export async function migratePostgres(client: pg.PoolClient, schema: string | null): Promise<void> {
  await client.query('SELECT pg_advisory_lock(7428001)');
  try {
    // Under the lock: two servers creating the same schema at once would collide in the catalogue.
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query('CREATE TABLE IF NOT EXISTS kensa_schema (version INTEGER NOT NULL)');
    const current = (await client.query<{ version: number }>('SELECT version FROM kensa_schema')).rows[0]?.version ?? 0;
    if ((await client.query('SELECT 1 FROM kensa_schema')).rowCount === 0) await client.query('INSERT INTO kensa_schema VALUES (0)');
    for (let version = current; version < POSTGRES_MIGRATIONS.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(POSTGRES_MIGRATIONS[version]);
        await client.query('UPDATE kensa_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7428001)');
  }
}
