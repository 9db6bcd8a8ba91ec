import { sql, type Database } from './database.ts';

/**
 * Recent failed logins per client id, in the database so that every API server of an installation counts the
 * same failures (a guesser spreading attempts over servers is slowed down as much as one hitting a single server).
 */
export class LoginFailuresRepository {
  constructor(private readonly db: Database) {}

  /** Failures of this client id since `since` (epoch ms); older ones are forgotten. */
  async countSince(clientId: string, since: number): Promise<number> {
    const row = await this.db.get<{ failures: number }>(sql`SELECT failures FROM login_failures WHERE client_id = ${clientId} AND last_at > ${since}`);
    return row?.failures ?? 0;
  }

  /** One more failure at `now`; a count last touched before `since` starts again from one. */
  async record(clientId: string, now: number, since: number): Promise<void> {
    await this.db.run(sql`INSERT INTO login_failures (client_id, failures, last_at) VALUES (${clientId}, 1, ${now})
      ON CONFLICT (client_id) DO UPDATE SET
        failures = CASE WHEN login_failures.last_at > ${since} THEN login_failures.failures + 1 ELSE 1 END, last_at = ${now}`);
    // Ids that stopped failing (or never existed) go, so that guessing many ids cannot grow the table for ever.
    await this.db.run(sql`DELETE FROM login_failures WHERE last_at <= ${since}`);
  }

  async clear(clientId: string): Promise<void> {
    await this.db.run(sql`DELETE FROM login_failures WHERE client_id = ${clientId}`);
  }
}
