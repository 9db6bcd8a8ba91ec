/**
 * Node-only file access for the SDK. Imported lazily (`await import`) so that the SDK itself still loads in
 * a browser, where nothing here is ever reached.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { NamedBlob } from './files.ts';

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.webp': 'image/webp',
};

/** The extensions `uploadFolder` picks up; the server still checks each file's content. */
export const IMAGE_EXTENSIONS = Object.keys(MIME_BY_EXTENSION);

export async function readPathAsBlob(path: string): Promise<NamedBlob> {
  const bytes = await readFile(path);
  const type = MIME_BY_EXTENSION[extname(path).toLowerCase()] ?? 'application/octet-stream';
  return { name: basename(path), blob: new Blob([bytes], { type }) };
}

/** Image files in `dir` (sorted by name, so uploads are repeatable); sub-folders too when `recursive`. */
export async function listImageFiles(dir: string, recursive = false): Promise<string[]> {
  const info = await stat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a folder`);
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) found.push(...(await listImageFiles(path, true)));
    } else if (IMAGE_EXTENSIONS.includes(extname(entry.name).toLowerCase())) {
      found.push(path);
    }
  }
  return found;
}
