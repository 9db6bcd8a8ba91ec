import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { copyFile, mkdir, opendir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobNotFoundError, InvalidBlobKeyError, checkBlobKey, checkBlobPrefix } from './blob-keys.ts';
import type { BlobEntry, BlobStore } from './blob-store.ts';

/**
 * Temporary files while writing, in one folder of the store so that a rename into place stays on the same
 * file system (atomic), and so that list() and crash clean-up know them.
 */
const PARTIAL_FOLDER = '.partial';

/** Blobs as files under a folder (the embedded default, or a volume shared by several machines). */
export class FileBlobStore implements BlobStore {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = pathToFileURL(this.root).href;
    mkdirSync(join(this.root, PARTIAL_FOLDER), { recursive: true });
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const temporary = this.temporaryPath();
    await writeFile(temporary, bytes);
    await this.moveIntoPlace(temporary, target);
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.pathOf(key);
    try {
      await this.moveIntoPlace(localPath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      // Another file system: copy beside the target first, so readers still never see half a file.
      const temporary = this.temporaryPath();
      await copyFile(localPath, temporary);
      await this.moveIntoPlace(temporary, target);
      await unlink(localPath);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      throw missingAs(error, key);
    }
  }

  async exists(key: string): Promise<boolean> {
    const info = await stat(this.pathOf(key)).catch(() => null);
    return info?.isFile() ?? false;
  }

  async remove(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A folder at the key is not a blob, so there is nothing to remove.
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EPERM') return;
      throw error;
    }
    await this.removeEmptyFolders(dirname(path));
  }

  async removePrefix(prefix: string): Promise<void> {
    const folder = checkBlobPrefix(prefix);
    if (folder === '') throw new InvalidBlobKeyError(prefix, 'removePrefix needs a folder; it will not remove everything');
    const path = this.pathOf(folder.slice(0, -1));
    await rm(path, { recursive: true, force: true });
    await this.removeEmptyFolders(dirname(path));
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    const folder = checkBlobPrefix(prefix);
    yield* this.walk(folder === '' ? this.root : this.pathOf(folder.slice(0, -1)), folder);
  }

  async localPath(key: string): Promise<string> {
    const path = this.pathOf(key);
    if (!(await this.exists(key))) throw new BlobNotFoundError(key);
    return path;
  }

  /** The files are the blobs themselves: nothing is held, nothing to let go. */
  async release(): Promise<void> {}

  async close(): Promise<void> {}

  /** Temporary files left by a crash mid-write; nothing refers to them. Only when no write is running (start-up). */
  async removeTemporaryFiles(): Promise<void> {
    await rm(join(this.root, PARTIAL_FOLDER), { recursive: true, force: true });
    await mkdir(join(this.root, PARTIAL_FOLDER), { recursive: true });
  }

  private pathOf(key: string): string {
    checkBlobKey(key);
    if (key.split('/')[0] === PARTIAL_FOLDER) throw new InvalidBlobKeyError(key, `"${PARTIAL_FOLDER}" is reserved by the file store`);
    return join(this.root, key);
  }

  private temporaryPath(): string {
    return join(this.root, PARTIAL_FOLDER, randomBytes(12).toString('hex'));
  }

  /** rename() is atomic; a concurrent remove() may delete the emptied folder between mkdir and rename, so retry. */
  private async moveIntoPlace(source: string, target: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(source, target);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' || attempt === 5 || !(await stat(source).then(() => true, () => false))) throw error;
      }
    }
  }

  /** Folders exist only to hold blobs: once the last one goes, they go too (up to, not including, the root). */
  private async removeEmptyFolders(folder: string): Promise<void> {
    while (folder.startsWith(this.root + '/')) {
      try {
        await rmdir(folder);
      } catch {
        return; // not empty (or gone already)
      }
      folder = dirname(folder);
    }
  }

  /** Depth first, in the order S3 lists keys ("a-b" before "a/c", as "-" sorts before "/"). */
  private async *walk(folder: string, keyPrefix: string): AsyncGenerator<BlobEntry> {
    const children: { name: string; order: string }[] = [];
    try {
      for await (const entry of await opendir(folder)) {
        if (keyPrefix === '' && entry.name === PARTIAL_FOLDER) continue;
        children.push({ name: entry.name, order: entry.isDirectory() ? `${entry.name}/` : entry.name });
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    children.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const { name } of children) {
      const path = join(folder, name);
      const info = await stat(path).catch(() => null); // removed while listing: skip it
      if (info?.isDirectory()) yield* this.walk(path, `${keyPrefix}${name}/`);
      else if (info?.isFile()) yield { key: keyPrefix + name, size: info.size };
    }
  }
}

function missingAs(error: unknown, key: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? new BlobNotFoundError(key) : error;
}
