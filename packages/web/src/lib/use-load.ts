import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useApp } from '../app-context.tsx';

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** Loads again; `quiet` keeps the current data on screen (live refresh) instead of showing "Loading…". */
  reload: (quiet?: boolean) => Promise<void>;
}

/** Loads `load()` when `key` changes; errors go to the page and, for ended sessions, to the shell. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const app = useApp();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async (quiet = false) => {
    const mine = ++generation.current;
    if (!quiet) setLoading(true);
    try {
      const value = await loader.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(caught);
      app.noticeError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [app]);

  useEffect(() => {
    void reload();
  }, key);

  return { data, error, loading, reload };
}

export interface Action {
  busy: boolean;
  error: unknown;
  /** Runs one change: busy meanwhile, its error kept for the page and shown to the shell (ended session, license). */
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  /** Forgets the error (a dismissed notice). */
  dismiss: () => void;
}

/** A button's change to the server, with the state a page shows around it. Resolves whether it succeeded. */
export function useAction(): Action {
  const app = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, [app]);
  const dismiss = useCallback(() => setError(null), []);
  return { busy, error, run, dismiss };
}
