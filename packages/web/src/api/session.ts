// The UI's one door to the server: the TypeScript SDK, plus what a browser needs on top of it (a token kept
// for the tab's life, images fetched with the token, files uploaded in batches with progress).
import { APIError, VisualInspectionSDK } from '@kensa/sdk';
import type { Language, Model, ParameterOverride } from '@kensa/sdk';

const TOKEN_KEY = 'kensa.session';

interface StoredSession {
  accessToken: string;
  clientId: string;
}

/** The API root of the server that served this page. */
export function defaultApiUrl(): string {
  return new URL('api', new URL('.', location.href.replace(/#.*$/, ''))).toString().replace(/\/$/, '');
}

export class Session {
  readonly sdk: VisualInspectionSDK;
  readonly clientId: string;

  private constructor(sdk: VisualInspectionSDK, clientId: string) {
    this.sdk = sdk;
    this.clientId = clientId;
  }

  /** Exchanges the credentials for a token; the secret stays in memory only, the token in this tab's storage. */
  static async signIn(clientId: string, clientSecret: string, language: Language): Promise<Session> {
    const sdk = new VisualInspectionSDK({ apiUrl: defaultApiUrl(), clientId, clientSecret, language });
    const token = await sdk.authorize();
    const stored: StoredSession = { accessToken: token.access_token, clientId };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(stored));
    return new Session(sdk, clientId);
  }

  /** The session of this tab after a reload, if it signed in before. */
  static restore(language: Language): Session | null {
    try {
      const stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null') as StoredSession | null;
      if (!stored?.accessToken) return null;
      return new Session(new VisualInspectionSDK({ apiUrl: defaultApiUrl(), accessToken: stored.accessToken, language }), stored.clientId);
    } catch {
      return null;
    }
  }

  static forget(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    imageCache.clear();
  }

  setLanguage(language: Language): void {
    this.sdk.language = language;
  }

  /**
   * The server's event stream (`GET /api/v1/events`, server-sent events), read with `fetch` because
   * `EventSource` cannot send the bearer token. Resolves `false` when the server has no such stream, so that
   * the caller polls instead; otherwise calls `onEvent` for each event until `signal` aborts or the stream ends.
   */
  async followEvents(onEvent: () => void, signal: AbortSignal): Promise<boolean> {
    const token = this.sdk.accessToken;
    if (!token) return false;
    let response: Response;
    try {
      response = await fetch(`${this.sdk.apiUrl}/v1/events`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal });
    } catch {
      return false;
    }
    if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await response.body?.cancel();
      return false;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return true;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          // Lines starting with ":" are keep-alive comments, not events.
          if (block.split('\n').some((line) => line && !line.startsWith(':'))) onEvent();
        }
      }
    } catch {
      return true; // aborted or cut: the caller decides whether to follow again
    }
  }

  /** Changes a model's prediction parameters without retraining (`PATCH /api/v1/models/{id}`). */
  updatePredictionParameters(modelId: number | string, overrides: ParameterOverride[]): Promise<Model> {
    return this.sdk.updateModel(modelId, overrides);
  }

  /**
   * A URL an `<img>` can show: links the server signed (`?token=`) as they are, so that the browser caches
   * them; any other API link is fetched with the bearer token into an object URL.
   */
  async imageUrl(url: string): Promise<string> {
    if (/[?&]token=/.test(url)) return url;
    return loadImage(this.sdk, url);
  }
}

// Object URLs of images already fetched, oldest first, so paging back and forth does not fetch them again.
const IMAGE_CACHE_LIMIT = 400;
const imageCache = new Map<string, Promise<string>>();

function loadImage(sdk: VisualInspectionSDK, url: string): Promise<string> {
  const cached = imageCache.get(url);
  if (cached) {
    imageCache.delete(url);
    imageCache.set(url, cached);
    return cached;
  }
  const loading = sdk.downloadFile(url).then((bytes) => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>])));
  loading.catch(() => imageCache.delete(url));
  imageCache.set(url, loading);
  while (imageCache.size > IMAGE_CACHE_LIMIT) {
    const [oldestUrl, oldest] = imageCache.entries().next().value as [string, Promise<string>];
    imageCache.delete(oldestUrl);
    oldest.then((objectUrl) => URL.revokeObjectURL(objectUrl), () => {});
  }
  return loading;
}

export type UploadKind = 'good' | 'defect' | 'predict';

export interface UploadOutcome {
  itemIds: string[];
  /** Files that did not reach the server, with the reason, so the person can retry them. */
  failed: { file: File; error: unknown }[];
}

/**
 * Uploads in small batches so that the progress bar moves and one bad batch does not lose the others. A batch
 * the server refuses is retried file by file, so that only the files it names stay behind.
 */
export async function uploadFiles(
  session: Session,
  files: readonly File[],
  kind: UploadKind,
  onProgress: (done: number, total: number) => void,
  options: { itemId?: string; batchSize?: number; target?: number } = {},
): Promise<UploadOutcome> {
  const batchSize = options.batchSize ?? 8;
  // Several images of one product (e.g. its six sides) go into one item when an item id is given.
  const uploadOptions = { itemId: options.itemId, target: options.target };
  const isGood = kind === 'good' ? true : kind === 'defect' ? false : undefined;
  const itemIds: string[] = [];
  const failed: UploadOutcome['failed'] = [];
  let done = 0;
  onProgress(0, files.length);
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    try {
      const answer = await session.sdk.upload(batch, isGood, uploadOptions);
      itemIds.push(...answer.item_ids);
    } catch (error) {
      if (!(error instanceof APIError) || error.status === 0 || batch.length === 1) {
        failed.push(...batch.map((file) => ({ file, error })));
      } else {
        for (const file of batch) {
          try {
            itemIds.push(...(await session.sdk.upload([file], isGood, uploadOptions)).item_ids);
          } catch (singleError) {
            failed.push({ file, error: singleError });
          }
        }
      }
    }
    done += batch.length;
    onProgress(done, files.length);
  }
  return { itemIds: [...new Set(itemIds)], failed };
}
