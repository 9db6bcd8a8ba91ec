import { sql, type Database } from './database.ts';

/**
 * Recent failed logins per client id, in the database so that every API server of an installation counts the
 * same failures (a guesser spreading attempts over servers is slowed down as much as one hitting a single server).
 */
export class LoginFailuresRepository {
  constructor(private readonly db: Database) {}

  /**
   * Counts one more login attempt of this client id at `now`, before its answer is known, and returns the attempts
   * so far, this one included. A single statement, so parallel attempts each get their own place in the count (reading
   * first and recording after the secret check let 40 parallel guesses all see "no failures yet"). A count last
   * touched before `since` (epoch ms) starts again from one. A successful login clears the count.
   */
  async reserveAttempt(clientId: string, now: number, since: number): Promise<number> {
    const row = await this.db.get<{ failures: number }>(sql`INSERT INTO login_failures (client_id, failures, last_at) VALUES (${clientId}, 1, ${now})
      ON CONFLICT (client_id) DO UPDATE SET
        failures = CASE WHEN login_failures.last_at > ${since} THEN login_failures.failures + 1 ELSE 1 END, last_at = ${now}
      RETURNING failures`);
    // Ids that stopped failing (or never existed) go, so that guessing many ids cannot grow the table for ever.
    await this.db.run(sql`DELETE FROM login_failures WHERE last_at <= ${since}`);
    return Number(row!.failures);
  }

  async clear(clientId: string): Promise<void> {
    await this.db.run(sql`DELETE FROM login_failures WHERE client_id = ${clientId}`);
  }
}
