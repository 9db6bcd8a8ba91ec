import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ItemRow, Model } from '@kensa/sdk';
import { useApp, useLiveRefresh } from '../app-context.tsx';
import { BulkBar } from '../components/bulk-bar.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { FolderUpload } from '../components/folder-upload.tsx';
import { ItemGrid } from '../components/item-grid.tsx';
import { NumberField } from '../components/number-field.tsx';
import { SAMPLE_TARGET_KEY, SampleProjectButton } from '../components/sample-project.tsx';
import { UploadPanel } from '../components/upload-panel.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { countTabs, filterRows, isUnfiltered, modelsOf, NO_ROW_FILTER } from '../lib/item-rows.ts';
import type { RowFilter, RowVerdict, Tab } from '../lib/item-rows.ts';

const TABS: { id: Tab; label: MessageKey }[] = [
  { id: 'training', label: 'tabTraining' },
  { id: 'predict', label: 'tabPredict' },
  { id: 'archived', label: 'tabArchived' },
];
/**
 * The first page is small so that the grid shows at once; the rest follows in pages small enough that reading one
 * (JSON of ~1,000 rows) never holds the main thread long, even during a live refresh while the person scrolls.
 */
const FIRST_PAGE = 400;
const NEXT_PAGES = 1000;
/** Live refreshes of thousands of rows at most this often. */
const MIN_REFRESH_MS = 2500;

interface RowsState {
  rows: ItemRow[];
  thumbnailUrl: string;
  /** Every page has arrived. */
  complete: boolean;
}

/** All rows of the product line, page by page: the first page is shown while the others arrive. */
function useItemRows(isBusy: () => boolean) {
  const app = useApp();
  const [state, setState] = useState<RowsState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);
  const lastLoad = useRef(0);

  const load = useCallback(async (quiet: boolean) => {
    const mine = ++generation.current;
    lastLoad.current = Date.now();
    const { sdk } = app.session;
    try {
      let page = await sdk.getItemRows({ target: app.target, limit: FIRST_PAGE });
      const rows = [...page.rows];
      // A quiet reload swaps the whole list at the end, so that the grid never shrinks for a moment.
      if (!quiet) setState({ rows: [...rows], thumbnailUrl: page.thumbnail_url, complete: page.next_cursor === null });
      while (page.next_cursor !== null) {
        page = await sdk.getItemRows({ target: app.target, limit: NEXT_PAGES, cursor: page.next_cursor });
        if (mine !== generation.current) return;
        rows.push(...page.rows);
        if (!quiet) setState({ rows: [...rows], thumbnailUrl: page.thumbnail_url, complete: page.next_cursor === null });
      }
      if (mine !== generation.current) return;
      setState({ rows, thumbnailUrl: page.thumbnail_url, complete: true });
      setError(null);
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(caught);
      app.noticeError(caught);
    }
  }, [app.session, app.target]);

  useEffect(() => { void load(false); }, [load]);
  // Skipped while the person scrolls (the slow safety poll comes back for it), so that a refresh never stalls a fling.
  const reloadQuietly = useCallback(() => {
    if (Date.now() - lastLoad.current >= MIN_REFRESH_MS && !isBusy()) void load(true);
  }, [load]);
  return { state, error, reload: () => load(true), reloadQuietly };
}

export function ItemsPage(props: { tab: string | null }) {
  const { t } = useI18n();
  const app = useApp();
  const tab: Tab = props.tab === 'predict' || props.tab === 'archived' ? props.tab : 'training';
  const scrolledAt = useRef(0);
  const items = useItemRows(() => Date.now() - scrolledAt.current < 1000);
  // New items, finished predictions and reviews (from this or another browser, the CLI, the line) show up live.
  useLiveRefresh(items.reloadQuietly, true, 3000);
  const [models, setModels] = useState<Model[]>([]);
  useEffect(() => {
    app.session.sdk.getModels({ target: app.target }).then(setModels, () => { /* ids stand in for names */ });
  }, [app.session, app.target]);
  const [filter, setFilter] = useState<RowFilter>(NO_ROW_FILTER);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);

  const all = items.state?.rows ?? [];
  const counts = useMemo(() => countTabs(all), [all]);
  const shown = useMemo(() => filterRows(all, tab, filter), [all, tab, filter]);
  const modelIds = useMemo(() => modelsOf(all), [all]);
  // What is selected but no longer shown (filtered out, moved) leaves the selection, so that a bulk change never
  // touches an item one cannot see.
  const shownIds = useMemo(() => new Set(shown.map((row) => row.item_id)), [shown]);
  const visibleSelection = useMemo(() => new Set([...selected].filter((id) => shownIds.has(id))), [selected, shownIds]);
  useEffect(() => setSelected(new Set()), [tab]);

  const verdicts: RowVerdict[] = tab === 'training' ? ['good', 'defect', 'unlabelled'] : ['OK', 'NG', 'pending'];
  const verdictLabel: Record<RowVerdict, MessageKey> = {
    OK: 'verdictOK', NG: 'verdictNG', pending: 'verdictPending', good: 'labelGood', defect: 'labelDefect', unlabelled: 'verdictUnlabelled',
  };
  // From the current filter, not this render's: two changes before a re-render must both count.
  const change = (part: Partial<RowFilter>) => setFilter((current) => ({ ...current, ...part }));
  const modelName = (id: number) => models.find((m) => String(m.model_id) === String(id))?.name ?? `#${id}`;

  return (
    <div class="page items-page">
      <div class="page-head">
        <h1>{t('itemsTitle')}</h1>
        <button type="button" onClick={() => void items.reload()}>{t('refresh')}</button>
      </div>
      <div class="two-columns">
        <div class="column-main">
          <div class="tabs" role="tablist">
            {TABS.map((entry) => (
              <a key={entry.id} role="tab" href={app.href(`#/items?tab=${entry.id}`)} aria-selected={tab === entry.id} class="tab" data-tab={entry.id}>
                {t(entry.label)} <span class="count">{items.state?.complete ? counts[entry.id] : '…'}</span>
              </a>
            ))}
          </div>
          <div class="filter-bar" role="search" aria-label={t('filterLabel')}>
            <label class="field field-inline grow">
              <span class="visually-hidden">{t('filterLabel')}</span>
              <input type="search" placeholder={t('filterPlaceholder')} value={filter.text} data-testid="item-filter"
                onInput={(e) => change({ text: e.currentTarget.value })} />
            </label>
            <label class="field field-inline">
              <span>{t('filterVerdict')}</span>
              <select value={filter.verdict} data-testid="filter-verdict" onChange={(e) => change({ verdict: e.currentTarget.value as RowFilter['verdict'] })}>
                <option value="any">{t('any')}</option>
                {verdicts.map((v) => <option key={v} value={v}>{t(verdictLabel[v])}</option>)}
              </select>
            </label>
            <label class="field field-inline">
              <span>{t('filterReview')}</span>
              <select value={filter.review} data-testid="filter-review" onChange={(e) => change({ review: e.currentTarget.value as RowFilter['review'] })}>
                <option value="any">{t('any')}</option>
                <option value="reviewed">{t('reviewReviewed')}</option>
                <option value="unreviewed">{t('reviewUnreviewed')}</option>
                <option value="overridden">{t('reviewOverridden')}</option>
              </select>
            </label>
            <label class="field field-inline">
              <span>{t('model')}</span>
              <select value={String(filter.modelId)} data-testid="filter-model"
                onChange={(e) => change({ modelId: e.currentTarget.value === 'any' ? 'any' : Number(e.currentTarget.value) })}>
                <option value="any">{t('filterNewestModel')}</option>
                {modelIds.map((id) => <option key={id} value={String(id)}>{modelName(id)}</option>)}
              </select>
            </label>
            <fieldset class="field-inline filter-range">
              <legend>{t('score')}</legend>
              <label><span class="visually-hidden">{t('filterScoreMin')}</span>
                <NumberField placeholder={t('filterMin')} testId="filter-score-min" value={filter.scoreMin} onCommit={(scoreMin) => change({ scoreMin })} /></label>
              <span aria-hidden="true">–</span>
              <label><span class="visually-hidden">{t('filterScoreMax')}</span>
                <NumberField placeholder={t('filterMax')} testId="filter-score-max" value={filter.scoreMax} onCommit={(scoreMax) => change({ scoreMax })} /></label>
            </fieldset>
            <fieldset class="field-inline filter-range">
              <legend title={t('filterDateHelp')}>{t('filterDate')}</legend>
              <label><span class="visually-hidden">{t('filterFrom')}</span>
                <input type="date" value={filter.from} data-testid="filter-from" onChange={(e) => change({ from: e.currentTarget.value })} /></label>
              <span aria-hidden="true">–</span>
              <label><span class="visually-hidden">{t('filterTo')}</span>
                <input type="date" value={filter.to} data-testid="filter-to" onChange={(e) => change({ to: e.currentTarget.value })} /></label>
            </fieldset>
            {!isUnfiltered(filter) && (
              <button type="button" class="button-quiet" onClick={() => setFilter(NO_ROW_FILTER)}>{t('filterClear')}</button>
            )}
          </div>
          <ErrorNotice error={items.error} />
          {notice && <p class="text-success" role="status" data-testid="bulk-notice">{notice}</p>}
          {!items.state ? (
            <p class="muted">{t('loading')}</p>
          ) : counts[tab] === 0 && items.state.complete ? (
            <>
              <p class="empty">{t('noItems')}</p>
              {all.length === 0 && <SampleProjectButton onDone={() => void items.reload()} />}
            </>
          ) : (
            <>
              <div class="grid-head">
                <p class="muted small" data-testid="item-count" aria-live="polite">
                  {t('itemCount', { shown: shown.length, total: counts[tab] })}{!items.state.complete && ` ${t('loadingMore')}`}
                </p>
                <BulkBar
                  tab={tab}
                  shown={shown}
                  selected={visibleSelection}
                  onSelect={setSelected}
                  onDone={async (message) => {
                    setSelected(new Set());
                    setNotice(message);
                    await items.reload();
                    void app.reloadTargets(); // the header's counts
                  }}
                />
              </div>
              {shown.length === 0 ? (
                <p class="empty">{t('noMatches')}</p>
              ) : (
                <ItemGrid rows={shown} thumbnailUrl={items.state.thumbnailUrl} modelId={filter.modelId}
                  selected={visibleSelection} onSelect={setSelected} onScroll={() => { scrolledAt.current = Date.now(); }} label={t(TABS.find((entry) => entry.id === tab)!.label)} />
              )}
            </>
          )}
        </div>
        <aside class="column-side">
          {String(app.target) === sessionStorage.getItem(SAMPLE_TARGET_KEY) && all.length > 0 && (
            <SampleProjectButton resultsOnly onDone={() => void items.reload()} />
          )}
          <UploadPanel defaultKind={tab === 'predict' ? 'predict' : 'good'} onUploaded={() => void items.reload()} />
          <FolderUpload defaultKind={tab === 'predict' ? 'predict' : 'good'} onProgress={items.reloadQuietly} onDone={() => void items.reload()} />
        </aside>
      </div>
    </div>
  );
}
