import { generateKeyPairSync, randomBytes, type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The installation's secrets, created on first start and kept in `<data>/keys` (readable by the owner only). */
export interface InstallationKeys {
  /** Signs licence files (Ed25519). */
  licensePrivateKey: KeyObject;
  licensePublicKey: KeyObject;
  /** Signs access tokens and image URL tokens (HMAC). */
  tokenSecret: Uint8Array;
}

export function loadOrCreateKeys(dataDir: string): InstallationKeys {
  const dir = join(dataDir, 'keys');
  const privatePath = join(dir, 'license-signing-key.pem');
  const publicPath = join(dir, 'license-signing-key.pub.pem');
  const tokenPath = join(dir, 'token-secret');
  if (!existsSync(privatePath)) {
    const pair = generateKeyPairSync('ed25519');
    writeFileSync(privatePath, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(publicPath, pair.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  }
  if (!existsSync(tokenPath)) writeFileSync(tokenPath, randomBytes(32).toString('base64'), { mode: 0o600 });
  return {
    licensePrivateKey: createPrivateKey(readFileSync(privatePath)),
    licensePublicKey: createPublicKey(readFileSync(publicPath)),
    tokenSecret: Buffer.from(readFileSync(tokenPath, 'utf8').trim(), 'base64'),
  };
}
