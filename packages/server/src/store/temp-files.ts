import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * This machine's scratch folder (`tmp/` in the data folder), the one owner of temporary files: uploads streamed in
 * before they are checked and stored, sample images on their way to an upload, and job outputs before they are
 * stored. Whoever asks for a path removes it here when done with it (a stored file has been moved away by then);
 * what a crash left behind is cleared at the next start, since nothing refers to it.
 */
export class TempFiles {
  readonly folder: string;

  constructor(dataFolderRoot: string) {
    this.folder = join(dataFolderRoot, 'tmp');
    mkdirSync(this.folder, { recursive: true });
  }

  /** A fresh path for a temporary file (nothing is created). */
  newPath(): string {
    return this.named(randomBytes(12).toString('hex'));
  }

  /** A path by name: a job's output, which the job's own hooks find again by that name. */
  named(name: string): string {
    return join(this.folder, name);
  }

  /** Removes temporary files; ones already gone (moved into storage, or never written) are fine. */
  async remove(paths: string | Iterable<string>): Promise<void> {
    await Promise.all([...(typeof paths === 'string' ? [paths] : paths)].map((path) => rm(path, { force: true, recursive: true })));
  }

  /** Removes the files whose names start with `prefix` (a cancelled job's outputs, finished or half-written). */
  async removeStartingWith(prefix: string): Promise<void> {
    await this.remove((await readdir(this.folder)).filter((name) => name.startsWith(prefix)).map((name) => join(this.folder, name)));
  }

  /** What an interrupted process left behind. Only at start, before anything is under way. */
  clearLeftovers(): void {
    for (const name of readdirSync(this.folder)) rmSync(join(this.folder, name), { force: true, recursive: true });
  }
}
