import { stat } from 'node:fs/promises';
import { listImageFiles } from '@kensa/sdk/node';

/** Expands folders into their image files (files named directly are kept as given, whatever their extension). */
export async function expandPaths(paths: string[], recursive = false): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new Error(`No such file or folder: ${path}`);
    if (info.isDirectory()) {
      const found = await listImageFiles(path, recursive);
      if (found.length === 0) throw new Error(`No image files in ${path}`);
      files.push(...found);
    } else files.push(path);
  }
  return files;
}

/** Whether an argument names something on disk (else `predict` takes it for an item id). */
export async function existsOnDisk(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
