import type { Settings } from '@kensa/server';
import type { ParsedFlags } from './flags.ts';

/**
 * What the commands that run or open an installation (serve, worker, client, license issue, migrate) start from:
 * the server's settings from the environment, read once, with the command's `--data-dir` on top. The server
 * package is loaded only here, so that commands talking to a server over HTTP never load it.
 */
export async function serverSettings(flags: ParsedFlags['flags']): Promise<Settings> {
  const { readSettings } = await import('@kensa/server');
  const settings = readSettings();
  return flags['data-dir'] === undefined ? settings : { ...settings, dataDir: String(flags['data-dir']) };
}
