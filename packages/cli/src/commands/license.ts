import { writeFile } from 'node:fs/promises';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';
import { serverSettings } from '../server-settings.ts';

export const licenseCommand: CommandSpec = {
  name: 'license',
  summary: 'Issue a license file (on the server machine) or activate one (through the API)',
  usage: 'kensa license issue --client-id ID [--days N] [--out FILE] [--data-dir DIR] [--json]\n       kensa license activate FILE [--json]',
  examples: [
    'kensa license issue --client-id line-3 --days 365 --out line-3.license',
    'kensa license activate line-3.license',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, {
      string: ['data-dir', 'client-id', 'days', 'out', ...CONNECTION_FLAGS.filter((f) => f !== 'client-id')],
      boolean: ['json'],
    });
    const [action, file] = positional;
    if (action === 'issue') {
      const clientId = flags['client-id'];
      if (typeof clientId !== 'string' || !clientId) throw new UsageError('license issue needs --client-id');
      const days = Number(flags.days ?? 365);
      if (!Number.isInteger(days) || days < 1) throw new UsageError('--days must be a positive integer');
      const { dataDir, databaseUrl } = await serverSettings(flags);
      const { issueLicense } = await import('@kensa/server');
      const license = await issueLicense({ databaseUrl, dataDir, clientId, days });
      const out = flags.out as string | undefined;
      if (out) await writeFile(out, license);
      if (flags.json) printJson({ client_id: clientId, days, out: out ?? null, license: out ? undefined : license });
      else if (out) console.log(`License for ${clientId}, ${days} days, written to ${out}`);
      else process.stdout.write(license.endsWith('\n') ? license : `${license}\n`);
      return 0;
    }
    if (action === 'activate') {
      if (!file || positional.length > 2) throw new UsageError('license activate needs one license FILE');
      const { sdk, remember } = await connect(flags);
      const answer = await sdk.activateLicense(file);
      await remember();
      if (flags.json) printJson(answer);
      else console.log(`License ${file} activated`);
      return 0;
    }
    throw new UsageError('Usage: kensa license issue|activate …');
  },
};
