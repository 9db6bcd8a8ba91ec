import type { ServerContext } from './context.ts';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** License days for clients made at start (bootstrap and first start). */
export const BOOTSTRAP_LICENSE_DAYS = 365;

/** Parses `KENSA_BOOTSTRAP_CLIENT=id:secret[,id:secret…]` (or the same text from `name`, a flag). */
export function parseBootstrapClients(value: string | undefined, name = 'KENSA_BOOTSTRAP_CLIENT'): ClientCredentials[] {
  if (!value || value.trim() === '') return [];
  return value.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) throw new Error(`${name} entries must be client_id:client_secret, got "${pair}"`);
    return { clientId: pair.slice(0, colon), clientSecret: pair.slice(colon + 1) };
  });
}

/**
 * Makes sure the named clients exist with these secrets and an active license. With none named and no
 * client at all, creates one and returns its credentials (to be shown once).
 */
export async function ensureClients(kensa: ServerContext, clients: ClientCredentials[], countClients: () => Promise<number>): Promise<ClientCredentials | null> {
  for (const client of clients) {
    await kensa.auth.createClient(client.clientId, client.clientSecret);
    if (!await kensa.licenses.hasActive(client.clientId)) await kensa.licenses.grant(client.clientId, BOOTSTRAP_LICENSE_DAYS);
  }
  if (clients.length > 0 || await countClients() > 0) return null;
  const created = await kensa.auth.createClient();
  await kensa.licenses.grant(created.clientId, BOOTSTRAP_LICENSE_DAYS);
  return created;
}
