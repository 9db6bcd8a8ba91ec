import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { ApiError, message } from '../http/errors.ts';
import type { ClientsRepository, LicenseLimits } from '../store/clients.repository.ts';
import { nowIso } from '../store/database.ts';

export type { LicenseLimits };

export interface LicenseBody {
  format: 'kensa-license-1';
  license_id: string;
  client_id: string;
  issued_at: string;
  expires_at: string;
  limits: LicenseLimits;
}

/** The signed text: the body's fields in a fixed order, so that signing and verifying see the same bytes. */
function canonical(body: LicenseBody): string {
  return JSON.stringify({
    format: body.format, license_id: body.license_id, client_id: body.client_id, issued_at: body.issued_at,
    expires_at: body.expires_at, limits: { max_models: body.limits.max_models, max_predictions_per_month: body.limits.max_predictions_per_month },
  });
}

/** GET /license (beyond the contract): what the web UI's badge and `getLicense()` show. */
export interface LicenseState {
  status: 'active' | 'missing' | 'expired';
  client_id: string;
  /** Of the active license, or of the latest expired one; null when there is none. */
  expires_at: string | null;
  limits: LicenseLimits | null;
}

export const UNLIMITED: LicenseLimits = { max_models: null, max_predictions_per_month: null };

/** Writes a license file: the body and its Ed25519 signature, as readable JSON. */
export function signLicense(privateKey: KeyObject, clientId: string, days: number, limits: Partial<LicenseLimits> = {}): string {
  const issued = new Date();
  const body: LicenseBody = {
    format: 'kensa-license-1',
    license_id: randomUUID(),
    client_id: clientId,
    issued_at: issued.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    expires_at: new Date(issued.getTime() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    limits: { ...UNLIMITED, ...limits },
  };
  const signature = sign(null, Buffer.from(canonical(body)), privateKey).toString('base64');
  return `${JSON.stringify({ ...body, signature }, null, 2)}\n`;
}

/** Checks a license file's form and signature; returns its body or the reason it is refused. */
export function readLicense(publicKey: KeyObject, text: string): LicenseBody {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ApiError(403, 'invalidLicense', message('licenseMalformed'));
  }
  const limits = parsed.limits as Record<string, unknown> | undefined;
  const isLimit = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
  if (parsed.format !== 'kensa-license-1' || typeof parsed.license_id !== 'string' || typeof parsed.client_id !== 'string' ||
    typeof parsed.issued_at !== 'string' || typeof parsed.expires_at !== 'string' || typeof parsed.signature !== 'string' ||
    !limits || !isLimit(limits.max_models) || !isLimit(limits.max_predictions_per_month)) {
    throw new ApiError(403, 'invalidLicense', message('licenseMalformed'));
  }
  const body = parsed as unknown as LicenseBody;
  const valid = verify(null, Buffer.from(canonical(body)), publicKey, Buffer.from(parsed.signature, 'base64'));
  if (!valid) throw new ApiError(403, 'invalidLicense', message('licenseBadSignature'));
  return body;
}

export class LicenseService {
  constructor(private readonly clients: ClientsRepository, private readonly publicKey: KeyObject, private readonly privateKey: KeyObject) {}

  issue(clientId: string, days: number, limits: Partial<LicenseLimits> = {}): string {
    return signLicense(this.privateKey, clientId, days, limits);
  }

  /** POST /license: verify signature, client and expiry, then keep it. */
  async activate(clientId: string, text: string): Promise<void> {
    const body = readLicense(this.publicKey, text);
    if (body.client_id !== clientId) throw new ApiError(403, 'invalidLicense', message('licenseOtherClient'));
    if (body.expires_at <= nowIso()) throw new ApiError(403, 'invalidLicense', message('licenseExpired', { date: body.expires_at }));
    if (await this.clients.findLicense(body.license_id)) throw new ApiError(403, 'invalidLicense', message('licenseAlreadyExists'));
    await this.clients.insertLicense({
      license_id: body.license_id, client_id: body.client_id, issued_at: body.issued_at, expires_at: body.expires_at,
      limits: body.limits, document: text, activated_at: nowIso(),
    });
  }

  /** Issues and activates a license in one step (bootstrap clients, `createClient`). */
  async grant(clientId: string, days: number, limits: Partial<LicenseLimits> = {}): Promise<void> {
    await this.activate(clientId, this.issue(clientId, days, limits));
  }

  async state(clientId: string): Promise<LicenseState> {
    const active = await this.clients.activeLicense(clientId, nowIso());
    const shown = active ?? await this.clients.latestLicense(clientId);
    if (!shown) return { status: 'missing', client_id: clientId, expires_at: null, limits: null };
    return {
      status: active ? 'active' : 'expired', client_id: clientId, expires_at: shown.expires_at,
      limits: shown.limits,
    };
  }

  async hasActive(clientId: string): Promise<boolean> {
    return (await this.clients.activeLicense(clientId, nowIso())) !== undefined;
  }

  /** The active license's limits, or a 403 when there is none (train and serve): the original's title "Invalid license!", the reason as detail. */
  async requireActive(clientId: string): Promise<LicenseLimits> {
    const row = await this.clients.activeLicense(clientId, nowIso());
    if (!row) throw new ApiError(403, 'invalidLicense', message('noActiveLicense'));
    return row.limits;
  }
}
