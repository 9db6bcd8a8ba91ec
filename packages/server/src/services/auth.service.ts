import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../http/errors.ts';
import type { ClientsRepository } from '../store/clients.repository.ts';
import type { LoginFailuresRepository } from '../store/login-failures.repository.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** Access tokens last 30 days, as the original's `expires`. */
export const ACCESS_TOKEN_SECONDS = 2_592_000;
/** Image URL tokens (for <img> tags) last a day; a fresh one comes with every answer that lists URLs. */
const MEDIA_TOKEN_SECONDS = 86_400;
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 };
const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, SCRYPT.keyLength, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

export function isValidClientId(clientId: string): boolean {
  return CLIENT_ID_PATTERN.test(clientId);
}

const LOGIN_FAILURES_FORGOTTEN_MS = 15 * 60_000;

/** After a few failed logins for one client id each answer waits, doubling up to a cap. */
function loginDelayMs(failures: number): number {
  return failures < 5 ? 0 : Math.min(5000, 100 * 2 ** (failures - 5));
}

export class AuthService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly loginFailures: LoginFailuresRepository,
    private readonly tokenSecret: Uint8Array,
  ) {}

  /** Creates a client (or sets the secret of an existing one); returns its credentials. */
  async createClient(clientId = `client-${randomBytes(6).toString('hex')}`, clientSecret = randomBytes(24).toString('base64url')) {
    if (!isValidClientId(clientId)) throw new Error(`client id must be 1–64 letters, digits, ".", "_" or "-": ${clientId}`);
    await this.clients.upsert(clientId, await hashSecret(clientSecret));
    return { clientId, clientSecret };
  }

  /** POST /auth/token: client credentials → a signed access token. */
  async issueToken(clientId: string, clientSecret: string): Promise<{ access_token: string; expires: number }> {
    // Repeated failures for one id are slowed down until a success or a quiet quarter of an hour.
    const since = Date.now() - LOGIN_FAILURES_FORGOTTEN_MS;
    const delay = loginDelayMs(await this.loginFailures.countSince(clientId, since));
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const client = await this.clients.find(clientId);
    if (!client || !(await verifySecret(clientSecret, client.secret_hash))) {
      await this.loginFailures.record(clientId, Date.now(), since);
      throw new ApiError(401, client ? 'secretMismatch' : 'unknownClient');
    }
    await this.loginFailures.clear(clientId);
    const token = await new SignJWT({ scope: 'api' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
      .sign(this.tokenSecret);
    return { access_token: token, expires: ACCESS_TOKEN_SECONDS };
  }

  /** The client id of a valid access token, or a 401. */
  async authenticate(token: string | undefined): Promise<string> {
    if (!token) throw new ApiError(401, 'unauthorized');
    try {
      const { payload } = await jwtVerify(token, this.tokenSecret, { algorithms: ['HS256'] });
      if (payload.scope !== 'api' || typeof payload.sub !== 'string' || !(await this.clients.find(payload.sub))) throw new Error('unknown client');
      return payload.sub;
    } catch {
      throw new ApiError(401, 'unauthorized');
    }
  }

  /**
   * A token for image URLs (`?token=`), so that `<img>` tags work without headers. It names the client and
   * an expiry, signed with HMAC; it is rounded to the hour so that one list answer reuses one token.
   */
  mediaToken(clientId: string): string {
    const expires = (Math.floor(Date.now() / 3_600_000) + 1) * 3600 + MEDIA_TOKEN_SECONDS;
    // Kept short: a list of 10,000 items carries it twice per item.
    const body = `${Buffer.from(clientId).toString('base64url')}.${expires.toString(36)}`;
    return `${body}.${this.mediaSignature(body)}`;
  }

  /** The client id of a valid media token, or null. */
  async verifyMediaToken(token: string): Promise<string | null> {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const body = `${parts[0]}.${parts[1]}`;
    const expected = Buffer.from(this.mediaSignature(body));
    const actual = Buffer.from(parts[2]);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    const clientId = Buffer.from(parts[0], 'base64url').toString('utf8');
    const expires = parseInt(parts[1], 36);
    return expires * 1000 > Date.now() && (await this.clients.find(clientId)) ? clientId : null;
  }

  private mediaSignature(body: string): string {
    // 128 bits of HMAC-SHA256 are plenty for a token that expires within a day.
    return createHmac('sha256', this.tokenSecret).update(`media:${body}`).digest().subarray(0, 16).toString('base64url');
  }
}
