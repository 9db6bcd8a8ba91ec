import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBlobStore } from './blobs/open-blob-store.ts';
import { bossSchemaOf, PgBossTransport } from '../jobs/pg-boss-transport.ts';
import { openDatabase, parsePostgresUrl, sql, type Database } from './database.ts';
import type { JobRow } from './jobs.repository.ts';

/**
 * The tables `kensa migrate` copies, parents before children. item_verdicts and summary_counts are not copied:
 * the target's triggers rebuild them from the assessments, which also proves the counts (compared after).
 */
const TABLES: { name: string; key: string; identity: boolean }[] = [
  { name: 'clients', key: 'client_id', identity: false },
  { name: 'licenses', key: 'license_id', identity: false },
  { name: 'settings', key: 'name', identity: false },
  { name: 'targets', key: 'target_id', identity: true },
  { name: 'items', key: 'pk', identity: true },
  { name: 'images', key: 'image_id', identity: true },
  { name: 'annotations', key: 'annotation_id', identity: true },
  { name: 'models', key: 'model_id', identity: true },
  { name: 'assessments', key: 'image_id, model_id', identity: false },
  { name: 'jobs', key: 'job_id', identity: true },
  { name: 'callbacks', key: 'callback_id', identity: true },
  { name: 'callback_deliveries', key: 'delivery_id', identity: true },
];

/** Stored files live under these folders of the data folder (the rest of it: the database, keys, scratch space). */
const BLOB_FOLDERS = ['images', 'models', 'results'];

export interface MoveReport {
  tables: Record<string, number>;
  files: number;
  bytes: number;
  /** Per target and model: OK / NG / confirmed / adjusted counts, equal on both sides. */
  summaries: number;
}

export interface MoveOptions {
  dataDir: string;
  /** postgres://… of an empty installation (its schema is created). */
  databaseUrl: string;
  /** s3://… or file:///…; absent: files stay in the data folder (a shared volume, say). */
  blobUrl?: string | null;
  onProgress?: (text: string) => void;
}

/**
 * `kensa migrate`: moves an embedded installation (SQLite + data folder) to PostgreSQL (+ S3), losing nothing.
 * The rows go in one transaction with their ids, so every reference and stored key stays valid; files are
 * copied and read back by checksum; then row counts and the summary counts are compared between both sides.
 * The source is left as it was: switch the servers over once the report says everything arrived.
 */
export async function moveInstallation(options: MoveOptions): Promise<MoveReport> {
  const progress = options.onProgress ?? (() => {});
  const root = resolve(options.dataDir);
  const source = await openDatabase({ dataDir: root, url: null });
  const target = await openDatabase({ dataDir: root, url: options.databaseUrl });
  try {
    if (target.kind !== 'postgres') throw new Error('the target must be a postgres:// database');
    const existing = await target.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM clients`);
    if (existing!.n > 0) throw new Error('the target database already holds an installation (clients exist): migrate into an empty one');

    const report: MoveReport = { tables: {}, files: 0, bytes: 0, summaries: 0 };
    await target.transaction(async () => {
      for (const table of TABLES) {
        report.tables[table.name] = await copyTable(source, target, table.name, table.key);
        progress(`${table.name}: ${report.tables[table.name]} rows`);
      }
      for (const table of TABLES.filter((t) => t.identity)) {
        // Rows came with their ids: new ones continue after the highest.
        await target.run(sql`SELECT setval(pg_get_serial_sequence(${table.name}, ${table.key}),
          COALESCE((SELECT MAX(${sql.ref(table.key)}) FROM ${sql.table(table.name)}), 0) + 1, false)`);
      }
      // Jobs that were running belong to the processes that stop now: they run again on the new installation.
      await target.run(sql`UPDATE jobs SET status = 'queued', worker_id = NULL, lease_expires_at = NULL WHERE status = 'running'`);
    });

    // Jobs still waiting reach the new installation's workers as pg-boss messages, like any job stored there.
    const waiting = await target.all<JobRow>(sql`SELECT * FROM jobs WHERE status = 'queued' ORDER BY job_id`);
    if (waiting.length > 0) {
      const { connectionString, schema } = parsePostgresUrl(options.databaseUrl);
      const transport = await PgBossTransport.open(connectionString, target, bossSchemaOf(schema));
      try {
        await target.transaction(() => transport.announce(waiting));
      } finally {
        await transport.close();
      }
      progress(`jobs waiting: ${waiting.length} announced to the workers`);
    }

    for (const table of TABLES) {
      const count = (db: Database) => db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.table(table.name)}`);
      const [from, to] = [(await count(source))!.n, (await count(target))!.n];
      if (from !== to) throw new Error(`${table.name}: ${from} rows in the data folder, ${to} in PostgreSQL`);
    }
    const summaries = async (db: Database) => JSON.stringify(await db.all(sql`SELECT target_id, model_id, ok, ng, confirmed, adjusted
      FROM summary_counts WHERE ok <> 0 OR ng <> 0 OR confirmed <> 0 OR adjusted <> 0 ORDER BY target_id, model_id`));
    const [before, after] = [await summaries(source), await summaries(target)];
    if (before !== after) throw new Error(`the verdict counts differ after the move: ${before} against ${after}`);
    report.summaries = (JSON.parse(after) as unknown[]).length;

    if (options.blobUrl) {
      const from = openBlobStore(pathToFileURL(root).href, { cacheDir: `${root}/cache/migrate-from` });
      const to = openBlobStore(options.blobUrl, { cacheDir: `${root}/cache/migrate-to` });
      try {
        for (const folder of BLOB_FOLDERS) {
          for await (const entry of from.list(folder)) {
            const bytes = await from.get(entry.key);
            await to.put(entry.key, bytes);
            const copied = await to.get(entry.key);
            if (digest(copied) !== digest(bytes)) throw new Error(`${entry.key}: the copy differs from the original`);
            report.files++;
            report.bytes += bytes.length;
            if (report.files % 100 === 0) progress(`files: ${report.files}`);
          }
        }
      } finally {
        await from.close();
        await to.close();
      }
      progress(`files: ${report.files} (${report.bytes} bytes)`);
    }
    return report;
  } finally {
    await source.close();
    await target.close();
  }
}

async function copyTable(source: Database, target: Database, table: string, key: string): Promise<number> {
  const rows = await source.all<Record<string, unknown>>(sql`SELECT * FROM ${sql.table(table)} ORDER BY ${sql.raw(key)}`);
  for (let start = 0; start < rows.length; start += 200) {
    const batch = rows.slice(start, start + 200);
    const columns = Object.keys(batch[0]);
    const values = batch.map((row) => sql`(${sql.join(columns.map((c) => row[c]))})`);
    await target.run(sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
      VALUES ${sql.join(values)}`);
  }
  return rows.length;
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
