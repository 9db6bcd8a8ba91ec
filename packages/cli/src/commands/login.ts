import { VisualInspectionSDK } from '@kensa/sdk';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson } from '../output.ts';
import { namedConnection, writeProfile } from '../profile.ts';

export const loginCommand: CommandSpec = {
  name: 'login',
  summary: 'Check credentials against a server and save them as the profile other commands use',
  usage: 'kensa login --url URL --client-id ID --client-secret SECRET [--language en|ja] [--json]',
  examples: [
    'kensa login --url http://127.0.0.1:8080/api --client-id demo --client-secret demo-secret',
    'KENSA_CLIENT_SECRET=… kensa login --url https://kensa.example/api --client-id line-3 --language ja',
  ],
  async run(argv) {
    const { flags, positional } = parseFlags(argv, { string: ['url', 'client-id', 'client-secret', 'language'], boolean: ['json'] });
    if (positional.length) throw new UsageError(`login takes no arguments (got ${positional.join(' ')})`);
    const { apiUrl, clientId, clientSecret, language = 'en' } = namedConnection(flags);
    if (!apiUrl || !clientId || !clientSecret) throw new UsageError('login needs --url, --client-id and --client-secret (or KENSA_API_URL, KENSA_CLIENT_ID, KENSA_CLIENT_SECRET)');
    const sdk = new VisualInspectionSDK({ apiUrl, clientId, clientSecret, language });
    const token = await sdk.authorize();
    const version = await sdk.getVersionNumber();
    const path = await writeProfile({ api_url: sdk.apiUrl, client_id: clientId, client_secret: clientSecret, language, access_token: token.access_token });
    if (flags.json) printJson({ api_url: sdk.apiUrl, client_id: clientId, server_version: version, profile: path });
    else console.log(`Logged in to ${sdk.apiUrl} (Kensa ${version}) as ${clientId}; profile saved to ${path}`);
    return 0;
  },
};
