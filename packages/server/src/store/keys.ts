import { generateKeyPairSync, randomBytes, type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Database } from './database.ts';

/** The installation's secrets, created on first start and kept in the database (every API server shares them). */
export interface InstallationKeys {
  /** Signs license files (Ed25519). */
  licensePrivateKey: KeyObject;
  licensePublicKey: KeyObject;
  /** Signs access tokens and image URL tokens (HMAC). */
  tokenSecret: Uint8Array;
  /** Signs exported model files (Ed25519), which imports check. */
  modelPrivateKey: KeyObject;
  modelPublicKey: KeyObject;
}

/**
 * Reads the keys, creating those missing. Installations from before keys moved into the database had them in
 * `<data>/keys`: those are taken over, so that issued tokens and licenses stay valid. Servers starting together
 * agree on one value (the first insert wins; everyone reads it back).
 */
export async function loadOrCreateKeys(db: Database, dataDir: string): Promise<InstallationKeys> {
  const dir = join(dataDir, 'keys');
  const legacy = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
  const privatePem = await setting(db, 'license_signing_key', () => legacy('license-signing-key.pem')
    ?? newSigningKeyPem());
  const tokenSecret = await setting(db, 'token_secret', () => legacy('token-secret')?.trim() ?? randomBytes(32).toString('base64'));
  const modelPem = await setting(db, 'model_signing_key', newSigningKeyPem);
  return {
    modelPrivateKey: createPrivateKey(modelPem),
    modelPublicKey: createPublicKey(createPrivateKey(modelPem)),
    licensePrivateKey: createPrivateKey(privatePem),
    licensePublicKey: createPublicKey(createPrivateKey(privatePem)),
    tokenSecret: Buffer.from(tokenSecret.trim(), 'base64'),
  };
}

function newSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function setting(db: Database, name: string, create: () => string): Promise<string> {
  const existing = await db.get<{ value: string }>(sql`SELECT value FROM settings WHERE name = ${name}`);
  if (existing) return existing.value;
  await db.run(sql`INSERT INTO settings (name, value) VALUES (${name}, ${create()}) ON CONFLICT (name) DO NOTHING`);
  return (await db.get<{ value: string }>(sql`SELECT value FROM settings WHERE name = ${name}`))!.value;
}
