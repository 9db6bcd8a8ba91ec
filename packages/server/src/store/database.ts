import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder, type Transaction } from 'kysely';
import pg from 'pg';
import { migrateSqlite } from './migrations/sqlite.ts';
import { migratePostgres } from './migrations/postgres.ts';

export { sql };
export type DatabaseKind = 'sqlite' | 'postgres';

// PostgreSQL sends BIGINT (COUNT(*), SUM, epoch milliseconds) and NUMERIC as text; every such value here fits a double.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);

/** Which Database a transaction belongs to, so that two installations in one process never share one. */
const transactionScope = new AsyncLocalStorage<{ owner: Database; trx: Transaction<any> }>();

/**
 * The installation's metadata: SQLite (embedded default) or PostgreSQL (scale-out), behind one query layer
 * (Kysely). Queries are written once in the SQL both understand, as `sql` templates whose parameters Kysely
 * binds for each database. Inside `transaction`, every query of the same async flow joins the transaction, so
 * repositories need no transaction argument.
 */
export class Database {
  constructor(readonly kysely: Kysely<any>, readonly kind: DatabaseKind, private readonly onClose: () => Promise<void>) {}

  private get executor(): Kysely<any> {
    const scope = transactionScope.getStore();
    return scope?.owner === this ? scope.trx : this.kysely;
  }

  async all<T>(query: RawBuilder<unknown>): Promise<T[]> {
    return (await query.execute(this.executor)).rows as T[];
  }

  async get<T>(query: RawBuilder<unknown>): Promise<T | undefined> {
    return (await this.all<T>(query))[0];
  }

  /** Runs a statement; the number of rows it changed. */
  async run(query: RawBuilder<unknown>): Promise<number> {
    return Number((await query.execute(this.executor)).numAffectedRows ?? 0n);
  }

  /** A query in PostgreSQL's own text ($1, $2…), in the current transaction if any (pg-boss sends its jobs with it). */
  async execute(text: string, values: unknown[] = []): Promise<{ rows: unknown[] }> {
    const result = await this.executor.executeQuery(CompiledQuery.raw(text, values));
    return { rows: result.rows as unknown[] };
  }

  /** Runs `work` in one transaction (joining the caller's, if any): all of it happens or none. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (transactionScope.getStore()?.owner === this) return work();
    return this.kysely.transaction().execute((trx) => transactionScope.run({ owner: this, trx }, work));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** `IN (…)` of a list of values; an empty list matches nothing (both databases refuse `IN ()`). */
export function inList(values: readonly (string | number)[]): RawBuilder<unknown> {
  return values.length === 0 ? sql`(NULL)` : sql`(${sql.join(values)})`;
}

export interface DatabaseOptions {
  /** The data folder (SQLite's file lives there). */
  dataDir: string;
  /** `postgres://…` (KENSA_DATABASE_URL) for PostgreSQL; a `schema` query parameter picks a schema. Absent: SQLite. */
  url?: string | null;
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url) : openSqlite(join(options.dataDir, 'kensa.sqlite'));
}

function openSqlite(path: string): Database {
  keepPrivate(path);
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  migrateSqlite(raw);
  // Kysely prepares every query it runs; keeping the prepared statements saves that work on repeated queries.
  const statements = new Map<string, BetterSqlite3.Statement>();
  const cached = {
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= 500) statements.clear();
        statement = raw.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    close: () => raw.close(),
  };
  const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: cached as unknown as BetterSqlite3.Database }) });
  return new Database(kysely, 'sqlite', () => kysely.destroy());
}

/**
 * The database holds the token- and license-signing keys and every client's secret hash: only the server's user
 * may read it. An empty file made 0600 before SQLite opens it is a new database, and SQLite gives its -wal and
 * -shm files the database file's mode; files of an older installation (0644) are narrowed on every start.
 */
function keepPrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}

/** The connection settings of a KENSA_DATABASE_URL, with its `schema` parameter taken out. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | null } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`KENSA_DATABASE_URL must be a postgres:// URL, got ${parsed.protocol}//…`);
  }
  const schema = parsed.searchParams.get('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema must be a lower-case SQL name, got ${schema}`);
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

async function openPostgres(url: string): Promise<Database> {
  const { connectionString, schema } = parsePostgresUrl(url);
  const pool = new pg.Pool({ connectionString, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  pool.on('error', () => {}); // an idle connection dropped by the server: the pool replaces it
  // A connection that drops while a query holds it (a database restart, a network cut) fails that query, and its
  // client also emits 'error', which unheard would end the process; the pool discards the client when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      await migratePostgres(client, schema);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return new Database(kysely, 'postgres', () => kysely.destroy());
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
