import type BetterSqlite3 from 'better-sqlite3';
import { SQLITE } from './dialect.ts';
import { versionsOf } from './steps.ts';

/** SQLite's schema versions (steps.ts), in order: index 0 brings `user_version` from 0 to 1. */
export const SQLITE_MIGRATIONS: string[] = versionsOf(SQLITE);

/** Runs the migrations not yet applied, up to `upTo` (all by default; tests stop earlier to build an old schema). */
export function migrateSqlite(db: BetterSqlite3.Database, upTo = SQLITE_MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= upTo) return;
  // A step that rebuilds a table must not cascade deletes into the tables that refer to it: foreign keys are off
  // while steps run (SQLite ignores this pragma inside a transaction) and checked before each step commits; a
  // database that had broken references before keeps them, but no step may add one.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  const brokenBefore = (db.pragma('foreign_key_check') as unknown[]).length;
  try {
    for (let version = current; version < upTo; version++) {
      db.transaction(() => {
        db.exec(SQLITE_MIGRATIONS[version]);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > brokenBefore) throw new Error(`migration ${version + 1} would break foreign keys: ${JSON.stringify(broken.slice(0, 3))}`);
        db.pragma(`user_version = ${version + 1}`);
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}
