import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The installation's files under the data folder. Paths kept in the database are relative to it, so a
 * data folder can be moved. Writes are atomic (temporary file, then rename) so a crash never leaves half a file.
 */
export class DataFolder {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
    for (const sub of ['images', 'models', 'results', 'keys', 'tmp']) mkdirSync(join(this.root, sub), { recursive: true });
  }

  /** Uploads interrupted by a crash leave temporary files behind; nothing refers to them. Only at server start. */
  removeTemporaryFiles(): void {
    for (const name of readdirSync(join(this.root, 'tmp'))) rmSync(join(this.root, 'tmp', name), { force: true, recursive: true });
  }

  /** Absolute path of a stored relative path; refuses anything that would leave the data folder. */
  absolute(relativePath: string): string {
    const path = resolve(this.root, relativePath);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`path escapes the data folder: ${relativePath}`);
    return path;
  }

  relative(absolutePath: string): string {
    return relative(this.root, absolutePath);
  }

  temporaryPath(): string {
    return this.scratchPath(randomBytes(12).toString('hex'));
  }

  /** A named file in the local scratch folder (a job's output before it is stored). */
  scratchPath(name: string): string {
    return join(this.root, 'tmp', name);
  }

  /** A local file holding a stored file's bytes, for worker threads that read by path. */
  async localPath(relativePath: string): Promise<string> {
    return this.absolute(relativePath);
  }

  async write(relativePath: string, bytes: Uint8Array): Promise<void> {
    const target = this.absolute(relativePath);
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }

  /** Moves a finished temporary file into place. */
  async adopt(temporaryPath: string, relativePath: string): Promise<void> {
    const target = this.absolute(relativePath);
    mkdirSync(dirname(target), { recursive: true });
    await rename(temporaryPath, target);
  }

  read(relativePath: string): Promise<Buffer> {
    return readFile(this.absolute(relativePath));
  }

  async remove(relativePath: string | null | undefined): Promise<void> {
    if (relativePath) await rm(this.absolute(relativePath), { force: true, recursive: true });
  }

  /** Removes a folder once nothing is left in it (an item's image folder after its last file went). */
  async removeFolderIfEmpty(relativePath: string): Promise<void> {
    try {
      await rmdir(this.absolute(relativePath));
    } catch {
      // Not empty, or gone already: either way nothing is orphaned.
    }
  }
}

/** A file name safe to use inside a folder (client ids may hold characters a path must not). */
export function pathSegment(value: string): string {
  const encoded = Buffer.from(value).toString('base64url');
  // File systems allow 255 bytes a name; longer ids (item ids up to 255 characters) keep a readable start
  // and a hash ("~" is not in base64url, so these never equal a short id's name).
  return encoded.length <= 200 ? encoded : `${encoded.slice(0, 100)}~${createHash('sha256').update(value).digest('hex')}`;
}
