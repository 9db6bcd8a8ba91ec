import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson } from '../output.ts';
import { serverSettings } from '../server-settings.ts';

export const clientCommand: CommandSpec = {
  name: 'client',
  summary: 'Create an API client (id and secret) in a data folder',
  usage: 'kensa client create [--data-dir DIR] [--client-id ID] [--client-secret SECRET] [--json]',
  examples: [
    'kensa client create --data-dir ./data            # a random id and secret, printed once',
    'kensa client create --client-id line-3 --json',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: ['data-dir', 'client-id', 'client-secret'], boolean: ['json'] });
    if (positional[0] !== 'create' || positional.length > 1) throw new UsageError('Usage: kensa client create [options]');
    const { dataDir, databaseUrl } = await serverSettings(flags);
    const { createClient } = await import('@kensa/server');
    const created = await createClient({
      databaseUrl,
      dataDir,
      clientId: flags['client-id'] as string | undefined,
      clientSecret: flags['client-secret'] as string | undefined,
    });
    if (flags.json) printJson({ client_id: created.clientId, client_secret: created.clientSecret });
    else {
      console.log(`client_id:     ${created.clientId}`);
      console.log(`client_secret: ${created.clientSecret}`);
      console.log('The secret is stored only as a hash: keep it now. Then `kensa license issue --client-id ' + created.clientId + '`.');
    }
    return 0;
  },
};
