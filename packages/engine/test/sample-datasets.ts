import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the tests find the shared sample datasets (MVTec layout): `KENSA_DATASETS_DIR`, else `../shared/datasets`
 * beside the repository, else `/work/shared/datasets` (the development machines' copy, for clones made elsewhere, as
 * CI's). Test support only: the engine does not know where datasets live (`kensa bench` takes the folder).
 */
export function sampleDatasetsDir(): string {
  const candidates = [
    process.env.KENSA_DATASETS_DIR,
    resolve(import.meta.dirname, '../../../../shared/datasets'),
    '/work/shared/datasets',
  ].filter((c): c is string => Boolean(c));
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1];
}

/** One dataset of the shared folder, e.g. `sampleDataset('cookies')`. */
export function sampleDataset(name: string): string {
  return join(sampleDatasetsDir(), name);
}
