import { nowIso, sql, type Database } from './database.ts';

export interface ClientRow {
  client_id: string;
  secret_hash: string;
  created_at: string;
}

export interface LicenseLimits {
  /** Models a client may keep; null = no limit. */
  max_models: number | null;
  /** Images a client may predict per calendar month (UTC); null = no limit. */
  max_predictions_per_month: number | null;
}

export interface LicenseRow {
  license_id: string;
  client_id: string;
  issued_at: string;
  expires_at: string;
  limits: LicenseLimits;
  /** The license file as the client sent it. */
  document: string;
  activated_at: string;
}

// Limits are kept as JSON, parsed on the way out.
type StoredLicense = Omit<LicenseRow, 'limits'> & { limits_json: string };

function licenseOf({ limits_json, ...row }: StoredLicense): LicenseRow {
  return { ...row, limits: JSON.parse(limits_json) as LicenseLimits };
}

export class ClientsRepository {
  constructor(private readonly db: Database) {}

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM clients`))!.n;
  }

  find(clientId: string): Promise<ClientRow | undefined> {
    return this.db.get<ClientRow>(sql`SELECT * FROM clients WHERE client_id = ${clientId}`);
  }

  async upsert(clientId: string, secretHash: string): Promise<void> {
    await this.db.run(sql`INSERT INTO clients (client_id, secret_hash, created_at) VALUES (${clientId}, ${secretHash}, ${nowIso()})
      ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash`);
  }

  async findLicense(licenseId: string): Promise<LicenseRow | undefined> {
    const row = await this.db.get<StoredLicense>(sql`SELECT * FROM licenses WHERE license_id = ${licenseId}`);
    return row && licenseOf(row);
  }

  async insertLicense(row: LicenseRow): Promise<void> {
    await this.db.run(sql`INSERT INTO licenses (license_id, client_id, issued_at, expires_at, limits_json, document, activated_at)
      VALUES (${row.license_id}, ${row.client_id}, ${row.issued_at}, ${row.expires_at}, ${JSON.stringify(row.limits)}, ${row.document}, ${row.activated_at})`);
  }

  /** The license that is valid now and lasts longest, if any. */
  async activeLicense(clientId: string, now: string): Promise<LicenseRow | undefined> {
    const row = await this.db.get<StoredLicense>(sql`SELECT * FROM licenses WHERE client_id = ${clientId} AND expires_at > ${now} AND issued_at <= ${now}
      ORDER BY expires_at DESC LIMIT 1`);
    return row && licenseOf(row);
  }

  /** The client's license that lasts longest, valid or not (to tell "expired" from "missing"). */
  async latestLicense(clientId: string): Promise<LicenseRow | undefined> {
    const row = await this.db.get<StoredLicense>(sql`SELECT * FROM licenses WHERE client_id = ${clientId} ORDER BY expires_at DESC LIMIT 1`);
    return row && licenseOf(row);
  }
}
