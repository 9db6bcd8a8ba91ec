import { useMemo, useState } from 'preact/hooks';
import { useApp, useLiveRefresh } from '../app-context.tsx';
import { ErrorNotice, SuccessNotice } from '../components/error-notice.tsx';
import { Pager } from '../components/pager.tsx';
import { UploadPanel } from '../components/upload-panel.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { filterItems, pageOf } from '../lib/items.ts';
import { useLoad } from '../lib/use-load.ts';
import { ItemCard } from '../components/item-card.tsx';

const PAGE_SIZE = 36;

export function PredictPage() {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const loaded = useLoad(async () => {
    const [items, models] = await Promise.all([sdk.getItems({ target: app.target }), sdk.getModels({ target: app.target })]);
    return { items: items.predict, models };
  }, [app.session, app.target]);
  const items = loaded.data?.items ?? [];
  const ready = (loaded.data?.models ?? []).filter((m) => m.status === 'active');
  const activeModel = ready.find((m) => m.active) ?? null;

  const [modelId, setModelId] = useState('');
  const [onlyPending, setOnlyPending] = useState(true);
  const [filterText, setFilterText] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [page, setPage] = useState(1);
  const [watching, setWatching] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  const candidates = useMemo(
    () => filterItems(items, { text: filterText, status: onlyPending ? 'pending' : 'any', verdict: 'any' }),
    [items, filterText, onlyPending],
  );
  const shown = pageOf(candidates, page, PAGE_SIZE);
  const stillRunning = items.filter((i) => watching.has(i.item_id) && i.status !== 'done').length;
  // Watch the queued items turn from pending to OK / NG.
  useLiveRefresh(() => void loaded.reload(true), stillRunning > 0);

  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };

  const run = async () => {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const ids = [...picked];
      const answer = await sdk.serve(ids, modelId || undefined, { target: app.target });
      app.setLicense('active'); // serving is refused without one
      setMessage(t('predictionQueued', { count: answer.item_ids.length, version: answer.model_version }));
      setWatching(new Set([...watching, ...answer.item_ids]));
      setPicked(new Set());
      await loaded.reload(true);
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  const watched = items.filter((i) => watching.has(i.item_id));
  return (
    <div class="page predict-page">
      <div class="page-head">
        <h1>{t('predictTitle')}</h1>
      </div>
      <p class="muted">{t('predictIntro')}</p>
      <ErrorNotice error={loaded.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      <SuccessNotice message={message} />
      <div class="two-columns">
        <div class="column-main">
          <section class="panel">
            <div class="filter-bar">
              <label class="field field-inline">
                <span>{t('predictModel')}</span>
                <select value={modelId} onChange={(e) => setModelId(e.currentTarget.value)} data-testid="predict-model">
                  <option value="">{t('activeModelOption', { name: activeModel?.name ?? '—' })}</option>
                  {ready.map((m) => (
                    <option key={String(m.model_id)} value={String(m.model_id)}>{m.name}</option>
                  ))}
                </select>
              </label>
              <label class="checkbox">
                <input type="checkbox" checked={onlyPending} onChange={() => { setOnlyPending(!onlyPending); setPage(1); }} />
                {t('onlyPending')}
              </label>
              <input type="search" class="grow" placeholder={t('filterPlaceholder')} aria-label={t('filterLabel')} value={filterText} onInput={(e) => { setFilterText(e.currentTarget.value); setPage(1); }} />
            </div>
            <div class="filter-bar">
              <button type="button" onClick={() => setPicked(new Set([...picked, ...candidates.map((i) => i.item_id)]))} data-testid="select-all">
                {t('selectAll')} ({candidates.length})
              </button>
              <button type="button" onClick={() => setPicked(new Set())}>{t('selectNone')}</button>
              <span class="grow muted small">{t('selectedCount', { count: picked.size })}</span>
              <button type="button" class="button-primary" disabled={busy || picked.size === 0} onClick={run} data-testid="run-prediction">
                {busy ? t('running') : t('runPrediction', { count: picked.size })}
              </button>
            </div>
            {loaded.loading && !loaded.data ? (
              <p class="muted">{t('loading')}</p>
            ) : items.length === 0 ? (
              <p class="empty">{t('noPredictItems')}</p>
            ) : candidates.length === 0 ? (
              <p class="empty">{t('noMatches')}</p>
            ) : (
              <>
                <ul class="item-grid">
                  {shown.rows.map((item) => (
                    <ItemCard key={item.item_id} item={item} selectable={{ checked: picked.has(item.item_id), onToggle: () => toggle(item.item_id) }} />
                  ))}
                </ul>
                <Pager page={shown.page} pages={shown.pages} onPage={setPage} />
              </>
            )}
          </section>
          {watched.length > 0 && (
            <section class="panel" aria-live="polite">
              <h2>{stillRunning > 0 ? t('waiting') : t('statusDone')} <span class="muted small">({watched.length - stillRunning} / {watched.length})</span></h2>
              <progress max={watched.length} value={watched.length - stillRunning} aria-label={t('progress')} />
              <ul class="item-grid" data-testid="watched-items">
                {watched.slice(0, 60).map((item) => (
                  <ItemCard key={item.item_id} item={item} />
                ))}
              </ul>
            </section>
          )}
        </div>
        <aside class="column-side">
          <UploadPanel defaultKind="predict" kinds={['predict']} onUploaded={() => void loaded.reload(true)} />
        </aside>
      </div>
    </div>
  );
}
