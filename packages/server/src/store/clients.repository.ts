import { nowIso, type Db } from './database.ts';

export interface ClientRow {
  client_id: string;
  secret_hash: string;
  created_at: string;
}

export interface LicenseRow {
  license_id: string;
  client_id: string;
  issued_at: string;
  expires_at: string;
  limits_json: string;
  document: string;
  activated_at: string;
}

export class ClientsRepository {
  constructor(private readonly db: Db) {}

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM clients').get() as { n: number }).n;
  }

  find(clientId: string): ClientRow | undefined {
    return this.db.prepare('SELECT * FROM clients WHERE client_id = ?').get(clientId) as ClientRow | undefined;
  }

  upsert(clientId: string, secretHash: string): void {
    this.db.prepare(`INSERT INTO clients (client_id, secret_hash, created_at) VALUES (?, ?, ?)
      ON CONFLICT(client_id) DO UPDATE SET secret_hash = excluded.secret_hash`).run(clientId, secretHash, nowIso());
  }

  findLicense(licenseId: string): LicenseRow | undefined {
    return this.db.prepare('SELECT * FROM licenses WHERE license_id = ?').get(licenseId) as LicenseRow | undefined;
  }

  insertLicense(row: LicenseRow): void {
    this.db.prepare(`INSERT INTO licenses (license_id, client_id, issued_at, expires_at, limits_json, document, activated_at)
      VALUES (@license_id, @client_id, @issued_at, @expires_at, @limits_json, @document, @activated_at)`).run(row);
  }

  /** The licence that is valid now and lasts longest, if any. */
  activeLicense(clientId: string, now: string): LicenseRow | undefined {
    return this.db.prepare(`SELECT * FROM licenses WHERE client_id = ? AND expires_at > ? AND issued_at <= ?
      ORDER BY expires_at DESC LIMIT 1`).get(clientId, now, now) as LicenseRow | undefined;
  }

  /** The client's licence that lasts longest, valid or not (to tell "expired" from "missing"). */
  latestLicense(clientId: string): LicenseRow | undefined {
    return this.db.prepare('SELECT * FROM licenses WHERE client_id = ? ORDER BY expires_at DESC LIMIT 1').get(clientId) as LicenseRow | undefined;
  }
}
