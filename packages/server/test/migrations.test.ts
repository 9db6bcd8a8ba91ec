/**
 * The schema steps (src/store/migrations/steps.ts) are written once for both databases: released versions keep their
 * numbers and their SQL, and a fresh SQLite and a fresh PostgreSQL end with the same tables, columns and indexes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { migratePostgres, POSTGRES_MIGRATIONS } from '../src/store/migrations/postgres.ts';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../src/store/migrations/sqlite.ts';
import { postgresSkipReason, TEST_POSTGRES_URL } from './helpers.ts';

const skip = (await postgresSkipReason()) ?? false;

/**
 * The SQL of every released version, by digest. Databases out there ran it: changing it changes nothing for them and
 * makes new ones differ, so a change belongs in a new step (append its digest here). SQLite's are those of the text
 * released; PostgreSQL's first is steps 1–7 run together, checked (catalogue against catalogue) to build the schema
 * its first version was written as.
 */
const RELEASED = {
  sqlite: ['bcd3bd68d7b52730', '1ae0c302ea39ff56', '64bdd7277ef978d2', 'b61044ac346afee7', 'a71556360dddf79e', '9abc96ba5da3526c',
    'be61bd531db94067', '6b5f27932ba112fc', '0f3cb20f9c9c3cd8', 'bd45f0d6b952c5aa', '8c9d73f72f079c61', 'cda36b15722d6cd2'],
  postgres: ['ec4f669d0a7cae52', '4aea309759a72ee1', 'a6f030156de88383', 'bd45f0d6b952c5aa', '7b45b5842636035b'],
};

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

test('released versions keep their numbers and their SQL in both databases', () => {
  assert.deepEqual(SQLITE_MIGRATIONS.slice(0, RELEASED.sqlite.length).map(digest), RELEASED.sqlite);
  assert.deepEqual(POSTGRES_MIGRATIONS.slice(0, RELEASED.postgres.length).map(digest), RELEASED.postgres);
});

interface Column { name: string; type: string; notNull: boolean }
interface Schema { tables: Record<string, Column[]>; indexes: Record<string, string> }

/** SQLite's and PostgreSQL's names for the same kinds of values. */
const TYPE_FAMILY: Record<string, string> = {
  integer: 'integer', bigint: 'integer', text: 'text', real: 'real', 'double precision': 'real',
};

function sqliteSchema(): Schema {
  const db = new BetterSqlite3(':memory:');
  try {
    migrateSqlite(db);
    const tables: Schema['tables'] = {};
    const indexes: Schema['indexes'] = {};
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    for (const table of names) {
      const columns = db.prepare(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`).all(table) as { name: string; type: string; notnull: number; pk: number }[];
      // A column in the primary key is NOT NULL in PostgreSQL; SQLite says so only where it is written.
      tables[table] = columns.map((c) => ({ name: c.name, type: TYPE_FAMILY[c.type.toLowerCase()], notNull: c.notnull === 1 || c.pk > 0 }));
      for (const index of db.prepare(`SELECT name, partial FROM pragma_index_list(?) WHERE origin = 'c'`).all(table) as { name: string; partial: number }[]) {
        const keyColumns = db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(index.name) as string[];
        indexes[index.name] = `${table}(${keyColumns.join(', ')})${index.partial ? ' partial' : ''}`;
      }
    }
    return { tables, indexes };
  } finally {
    db.close();
  }
}

async function postgresSchema(): Promise<Schema> {
  const schema = `kensa_test_migrations_${process.pid}`;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await migratePostgres(client as unknown as pg.PoolClient, schema);
    const tables: Schema['tables'] = {};
    const columns = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name <> 'kensa_schema' ORDER BY table_name, ordinal_position`, [schema]);
    for (const c of columns.rows) {
      (tables[c.table_name] ??= []).push({ name: c.column_name, type: TYPE_FAMILY[c.data_type], notNull: c.is_nullable === 'NO' });
    }
    const indexes: Schema['indexes'] = {};
    const rows = await client.query<{ index: string; table: string; columns: string; partial: boolean }>(
      `SELECT i.relname AS index, t.relname AS table, string_agg(a.attname, ', ' ORDER BY k.n) AS columns, x.indpred IS NOT NULL AS partial
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace s ON s.oid = t.relnamespace
       CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE s.nspname = $1 AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
       GROUP BY i.relname, t.relname, x.indpred`, [schema]);
    for (const row of rows.rows) indexes[row.index] = `${row.table}(${row.columns})${row.partial ? ' partial' : ''}`;
    return { tables, indexes };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

test('a fresh SQLite and a fresh PostgreSQL end with the same tables, columns and indexes', { skip }, async () => {
  const sqlite = sqliteSchema();
  const postgres = await postgresSchema();
  assert.deepEqual(Object.keys(postgres.tables).sort(), Object.keys(sqlite.tables).sort());
  for (const [table, columns] of Object.entries(sqlite.tables)) assert.deepEqual(postgres.tables[table], columns, table);
  assert.deepEqual(postgres.indexes, sqlite.indexes);
});
