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
/** The access token's claim holding the client's secret stamp. */
const SECRET_STAMP_CLAIM = 'sst';
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
    // The same secret again (bootstrap clients at every start) keeps the stored hash, and with it the client's tokens:
    // a new hash is a changed secret, which revokes every token issued before it (see secretStamp).
    const existing = await this.clients.find(clientId);
    if (existing && await verifySecret(clientSecret, existing.secret_hash)) return { clientId, clientSecret };
    await this.clients.upsert(clientId, await hashSecret(clientSecret));
    return { clientId, clientSecret };
  }

  /** How many clients the installation has (none: the first start makes one). */
  countClients(): Promise<number> {
    return this.clients.count();
  }

  /** POST /auth/token: client credentials → a signed access token. */
  async issueToken(clientId: string, clientSecret: string): Promise<{ access_token: string; expires: number }> {
    // Repeated failures for one id are slowed down until a success or a quiet quarter of an hour. The attempt is
    // counted before the secret is checked, so that guesses sent in parallel wait in turn as sequential ones do.
    const now = Date.now();
    const attempts = await this.loginFailures.reserveAttempt(clientId, now, now - LOGIN_FAILURES_FORGOTTEN_MS);
    const delay = loginDelayMs(attempts - 1);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const client = await this.clients.find(clientId);
    if (!client || !(await verifySecret(clientSecret, client.secret_hash))) throw new ApiError(401, client ? 'secretMismatch' : 'unknownClient');
    await this.loginFailures.clear(clientId);
    const token = await new SignJWT({ scope: 'api', [SECRET_STAMP_CLAIM]: this.secretStamp(client.secret_hash) })
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
      if (payload.scope !== 'api' || typeof payload.sub !== 'string') throw new Error('not an access token');
      const client = await this.clients.find(payload.sub);
      if (!client || payload[SECRET_STAMP_CLAIM] !== this.secretStamp(client.secret_hash)) throw new Error('unknown client, or its secret changed since');
      return payload.sub;
    } catch {
      throw new ApiError(401, 'unauthorized');
    }
  }

  /**
   * A token for image URLs (`?token=`), so that `<img>` tags work without headers. It names the client and
   * an expiry, signed with HMAC; it is rounded to the hour so that one list answer reuses one token.
   */
  async mediaToken(clientId: string): Promise<string> {
    const secretHash = (await this.clients.find(clientId))?.secret_hash ?? '';
    const expires = (Math.floor(Date.now() / 3_600_000) + 1) * 3600 + MEDIA_TOKEN_SECONDS;
    // Kept short: a list of 10,000 items carries it twice per item.
    const body = `${Buffer.from(clientId).toString('base64url')}.${expires.toString(36)}`;
    return `${body}.${this.mediaSignature(body, secretHash)}`;
  }

  /** The client id of a valid media token, or null. */
  async verifyMediaToken(token: string): Promise<string | null> {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const body = `${parts[0]}.${parts[1]}`;
    const clientId = Buffer.from(parts[0], 'base64url').toString('utf8');
    const expires = parseInt(parts[1], 36);
    if (!(expires * 1000 > Date.now())) return null;
    const client = await this.clients.find(clientId);
    if (!client) return null;
    const expected = Buffer.from(this.mediaSignature(body, client.secret_hash));
    const actual = Buffer.from(parts[2]);
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? clientId : null;
  }

  private mediaSignature(body: string, secretHash: string): string {
    // 128 bits of HMAC-SHA256 are plenty for a token that expires within a day. The client's secret stamp is signed
    // along, so that a changed secret revokes image URLs too.
    return createHmac('sha256', this.tokenSecret).update(`media:${body}:${this.secretStamp(secretHash)}`).digest().subarray(0, 16).toString('base64url');
  }

  /**
   * A short fingerprint of the client's stored secret hash, carried in its tokens: a changed secret (a new hash, new
   * salt) no longer matches, so tokens issued before the change are refused — without a revocation list. Keyed with
   * the token secret, so it tells nothing about the hash.
   */
  private secretStamp(secretHash: string): string {
    return createHmac('sha256', this.tokenSecret).update(`secret:${secretHash}`).digest().subarray(0, 9).toString('base64url');
  }
}
