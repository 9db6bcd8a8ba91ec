import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { APIError } from '@kensa/sdk';
import type { Target } from '@kensa/sdk';
import type { Session } from './api/session.ts';

/** 'unknown' until the server answers GET /v1/license. */
export type LicenseState = 'unknown' | 'active' | 'missing' | 'expired';

export interface AppState {
  session: Session;
  license: LicenseState;
  setLicense: (state: LicenseState) => void;
  /** Lets the shell react to errors any page meets: an ended session, a missing license. */
  noticeError: (error: unknown) => void;
  /**
   * The product line (inspection target) every page works on: the `line` of the URL, so that a copied link opens
   * the same line; always a real target id (the default target's too), so that every list agrees with the header.
   */
  target: number;
  /** The client's product lines, as the header lists them. */
  targets: readonly Target[];
  /**
   * Switches product line (staying on the page, or the items of an item's page) and remembers it for this client;
   * `stay` keeps even an item's page, in place in the history (an item opened from another line's link).
   */
  chooseTarget: (targetId: number, options?: { stay?: boolean }) => Promise<void>;
  /** Reads the product lines again (after creating one, or when counts changed). */
  reloadTargets: () => Promise<void>;
  /** A hash of this app with the current product line in it. */
  href: (hash: string) => string;
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

/** Train and serve answer 403 only without an active license (the UI never sends foreign item ids). */
export function isLicenseError(error: unknown): boolean {
  return error instanceof APIError && error.status === 403 && /\/v1\/(train|serve)$/.test(error.pointer ?? '');
}

export function isSessionError(error: unknown): boolean {
  return error instanceof APIError && error.status === 401 && (error.pointer ?? '').includes('/v1/');
}

/** Where the chosen product line is remembered in this browser: per client, so two people sharing it keep their own. */
export function targetStorageKey(clientId: string): string {
  return `kensa.target.${clientId}`;
}

export function storedTarget(clientId: string): number | undefined {
  return lineOf(localStorage.getItem(targetStorageKey(clientId)));
}

/** A product line id from text (a URL's `line`, a stored value); undefined when it is none. */
export function lineOf(text: string | null | undefined): number | undefined {
  const value = Number(text);
  return text && Number.isSafeInteger(value) && value > 0 ? value : undefined;
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

/** The same hash with its `line` set to this product line (first, so that it reads as where one is). */
export function withLine(hash: string, line: number): string {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const query = new URLSearchParams(search);
  query.delete('line');
  const rest = query.toString();
  return `#/${path || 'items'}?line=${line}${rest ? `&${rest}` : ''}`;
}

/** Fired on `replaceRoute`, which changes the hash without a hashchange event. */
const ROUTE_REPLACED = 'kensa-route-replaced';

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    addEventListener(ROUTE_REPLACED, onChange);
    return () => {
      removeEventListener('hashchange', onChange);
      removeEventListener(ROUTE_REPLACED, onChange);
    };
  }, []);
  return parseRoute(hash);
}

export function navigate(hash: string): void {
  location.hash = hash;
}

/** Changes the hash in place (no new history entry): filling in the product line, correcting it to an item's own. */
export function replaceRoute(hash: string): void {
  if (location.hash === hash) return;
  history.replaceState(history.state, '', hash);
  dispatchEvent(new Event(ROUTE_REPLACED));
}

/** An item's page in its own product line; `archived` tells it where the item lives (its detail does not say). */
export function itemHref(itemId: string, line: number, archived = false): string {
  return withLine(`#/item/${encodeURIComponent(itemId)}${archived ? '?archived=1' : ''}`, line);
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
