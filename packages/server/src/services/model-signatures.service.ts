import { createHash, createPublicKey, sign as signCallback, verify as verifyCallback, type KeyObject } from 'node:crypto';
import { readFile, truncate } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ApiError, message } from '../http/errors.ts';

const sign = promisify(signCallback) as (algorithm: null, data: Uint8Array, key: KeyObject) => Promise<Buffer>;
const verify = promisify(verifyCallback) as (algorithm: null, data: Uint8Array, key: KeyObject, signature: Uint8Array) => Promise<boolean>;

/**
 * An exported model file is the model's own bytes (with their SHA-256, which only catches accidents) followed by
 * a signature trailer that catches intent:
 *
 *   model bytes | signer's Ed25519 public key (32 bytes) | signature (64 bytes) | "KENSASG1"
 *
 * The signature covers a context string and the model bytes, made with the exporting installation's key.
 */
const TRAILER_MAGIC = Buffer.from('KENSASG1', 'ascii');
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const TRAILER_BYTES = PUBLIC_KEY_BYTES + SIGNATURE_BYTES + TRAILER_MAGIC.length;
const CONTEXT = Buffer.from('kensa model export v1\0', 'ascii');

/** The raw 32 bytes of an Ed25519 public key. */
function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

/** A short, readable name for a signing key (in messages: which installation signed a file). */
export function keyFingerprint(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** Signs exports with the installation's key and checks files on import. */
export class ModelSignatures {
  private readonly ownPublicKey: Buffer;

  constructor(private readonly privateKey: KeyObject, publicKey: KeyObject) {
    this.ownPublicKey = rawPublicKey(publicKey);
  }

  /** The export of a stored model: its bytes and the trailer. Deterministic (Ed25519), so a second export is byte-identical. */
  async sign(model: Uint8Array): Promise<Buffer> {
    // Signed off the event loop: a model file can be tens of megabytes.
    const signature = await sign(null, Buffer.concat([CONTEXT, model]), this.privateKey);
    return Buffer.concat([model, this.ownPublicKey, signature, TRAILER_MAGIC]);
  }

  /**
   * Checks an uploaded export in place and leaves only the model bytes in the file. A signature that does not
   * match the content (a file edited, even with its checksum recomputed) is refused always; a file that is unsigned
   * or signed by another installation is refused unless the caller trusts its source (`trust`).
   */
  async verifyImport(path: string, trust: boolean): Promise<void> {
    const bytes = await readFile(path);
    const signed = bytes.length > TRAILER_BYTES && bytes.subarray(bytes.length - TRAILER_MAGIC.length).equals(TRAILER_MAGIC);
    if (!signed) {
      if (!trust) throw new ApiError(400, 'modelSignatureRefused', message('modelUnsigned'));
      return;
    }
    const modelLength = bytes.length - TRAILER_BYTES;
    const model = bytes.subarray(0, modelLength);
    const signerKey = bytes.subarray(modelLength, modelLength + PUBLIC_KEY_BYTES);
    const signature = bytes.subarray(modelLength + PUBLIC_KEY_BYTES, modelLength + PUBLIC_KEY_BYTES + SIGNATURE_BYTES);
    const signer = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signerKey).toString('base64url') }, format: 'jwk' });
    if (!await verify(null, Buffer.concat([CONTEXT, model]), signer, signature)) {
      throw new ApiError(400, 'modelSignatureRefused', message('modelSignatureInvalid'));
    }
    if (!signerKey.equals(this.ownPublicKey) && !trust) {
      throw new ApiError(400, 'modelSignatureRefused', message('modelForeignSignature', { key: keyFingerprint(signerKey) }));
    }
    // The worker reads the model format itself, which knows nothing of the trailer.
    await truncate(path, modelLength);
  }
}

