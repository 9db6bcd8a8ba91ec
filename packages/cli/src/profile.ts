/**
 * Where the command line finds its server and credentials: flags, then environment, then the profile that
 * `kensa login` saved (`KENSA_PROFILE` or `~/.config/kensa/profile.json`, readable by its owner only).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { VisualInspectionSDK, type Language } from '@kensa/sdk';
import { UsageError, type ParsedFlags } from './flags.ts';

export interface Profile {
  api_url: string;
  client_id: string;
  client_secret: string;
  language?: Language;
  /** Cached so that each command does not have to authorize again; renewed when the server refuses it. */
  access_token?: string;
}

/** Flags every command that talks to a server accepts. */
export const CONNECTION_FLAGS = ['url', 'client-id', 'client-secret', 'language'];

export function profilePath(): string {
  return process.env.KENSA_PROFILE || join(homedir(), '.config', 'kensa', 'profile.json');
}

export async function readProfile(): Promise<Profile | null> {
  try {
    return JSON.parse(await readFile(profilePath(), 'utf8')) as Profile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`Cannot read the profile ${profilePath()}: ${(error as Error).message}`);
  }
}

export async function writeProfile(profile: Profile): Promise<string> {
  const path = profilePath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // an existing file keeps its old mode on write
  return path;
}

function parseLanguage(value: string | undefined): Language | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'en' && value !== 'ja') throw new UsageError(`--language must be en or ja, not ${value}`);
  return value;
}

export interface Connection {
  sdk: VisualInspectionSDK;
  /** Saves a renewed access token back into the profile (when the connection came from it). */
  remember(): Promise<void>;
}

/** The server and credentials named by flags, else by the environment; undefined where neither names one. */
export function namedConnection(flags: ParsedFlags['flags']): { apiUrl?: string; clientId?: string; clientSecret?: string; language?: Language } {
  // An empty value counts as unset, so `KENSA_CLIENT_ID= kensa …` falls back to the profile.
  const text = (name: string, env: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : process.env[env]) || undefined;
  return {
    apiUrl: text('url', 'KENSA_API_URL'),
    clientId: text('client-id', 'KENSA_CLIENT_ID'),
    clientSecret: text('client-secret', 'KENSA_CLIENT_SECRET'),
    language: parseLanguage(text('language', 'KENSA_LANGUAGE')),
  };
}

export async function connect(flags: ParsedFlags['flags']): Promise<Connection> {
  const saved = await readProfile();
  const named = namedConnection(flags);
  const apiUrl = named.apiUrl ?? saved?.api_url;
  const clientId = named.clientId ?? saved?.client_id;
  const clientSecret = named.clientSecret ?? (clientId === saved?.client_id ? saved?.client_secret : undefined);
  if (!apiUrl || !clientId || !clientSecret) {
    throw new UsageError('No server to talk to: run `kensa login --url URL --client-id ID --client-secret SECRET` first, or give --url, --client-id and --client-secret (or KENSA_API_URL, KENSA_CLIENT_ID, KENSA_CLIENT_SECRET)');
  }
  const sameAsProfile = saved !== null && saved.api_url === apiUrl && saved.client_id === clientId && saved.client_secret === clientSecret;
  const sdk = new VisualInspectionSDK({
    apiUrl,
    clientId,
    clientSecret,
    language: named.language ?? saved?.language,
    accessToken: sameAsProfile ? saved.access_token : undefined,
  });
  return {
    sdk,
    async remember() {
      if (sameAsProfile && sdk.accessToken && sdk.accessToken !== saved.access_token) {
        await writeProfile({ ...saved, access_token: sdk.accessToken });
      }
    },
  };
}

