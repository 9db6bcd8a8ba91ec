import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { APIError } from '@kensa/sdk';
import type { Session } from './api/session.ts';

/** 'unknown' until the server answers GET /v1/license. */
export type LicenceState = 'unknown' | 'active' | 'missing' | 'expired';

export interface AppState {
  session: Session;
  licence: LicenceState;
  setLicence: (state: LicenceState) => void;
  /** Lets the shell react to errors any page meets: an ended session, a missing licence. */
  noticeError: (error: unknown) => void;
  /** The product line (inspection target) every page works on; `undefined` is the default target. */
  target: number | undefined;
  /** Switches product line and remembers it for this user; the target list is read again (a new one shows). */
  chooseTarget: (targetId: number | undefined) => void;
  /** Changes whenever the target list may have changed, so the switcher reads it again. */
  targetsVersion: number;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside a signed-in page');
  return app;
}

export function useSession(): Session {
  return useApp().session;
}

/** Train and serve answer 403 only without an active licence (the UI never sends foreign item ids). */
export function isLicenceError(error: unknown): boolean {
  return error instanceof APIError && error.status === 403 && /\/v1\/(train|serve)$/.test(error.pointer ?? '');
}

export function isSessionError(error: unknown): boolean {
  return error instanceof APIError && error.status === 401 && (error.pointer ?? '').includes('/v1/');
}

/** Where the chosen product line is remembered: per user, so two people sharing a browser keep their own. */
export function targetStorageKey(clientId: string): string {
  return `kensa.target.${clientId}`;
}

export function storedTarget(clientId: string): number | undefined {
  const stored = Number(localStorage.getItem(targetStorageKey(clientId)));
  return Number.isInteger(stored) && stored > 0 ? stored : undefined;
}

// ---- Routing: the hash holds the page, so that reload, back and bookmarks work on any static server ----------

export interface Route {
  page: string;
  /** The rest of the path, e.g. the item id of `#/item/<id>`. */
  rest: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page = '', ...rest] = path.split('/');
  return { page: page || 'items', rest: rest.map(decodeURIComponent).join('/'), query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

export function navigate(hash: string): void {
  location.hash = hash;
}

/** An item's page; `archived` tells it where the item lives (its detail does not say). */
export function itemHref(itemId: string, archived = false): string {
  return `#/item/${encodeURIComponent(itemId)}${archived ? '?archived=1' : ''}`;
}

/**
 * Calls `refresh` whenever the server reports progress while `active`: on its event stream when it has one
 * (at most one refresh per half second), else by polling every `pollMs`.
 */
export function useLiveRefresh(refresh: () => void, active: boolean, pollMs = 1500): void {
  const session = useSession();
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (!active) return;
    const stop = new AbortController();
    let timer: ReturnType<typeof setInterval> | undefined;
    let pending: ReturnType<typeof setTimeout> | undefined;
    // At most one refresh per half second however fast events come (a batch of items finishing).
    const soon = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        latest.current();
      }, 500);
    };
    const poll = () => {
      if (!stop.signal.aborted && timer === undefined) timer = setInterval(() => latest.current(), pollMs);
    };
    // A slow poll even while events flow, in case the stream never mentions what this view shows.
    const safety = setInterval(() => latest.current(), pollMs * 5);
    // No stream, or a stream that ended: poll at full pace.
    void session.followEvents(soon, stop.signal).then(poll);
    return () => {
      stop.abort();
      clearInterval(timer);
      clearInterval(safety);
      clearTimeout(pending);
    };
  }, [active, pollMs, session]);
}
