import { useMemo, useState } from 'preact/hooks';
import type { Item } from '@kensa/sdk';
import { itemHref, navigate, useApp, useLiveRefresh } from '../app-context.tsx';
import { AuthImage } from '../components/auth-image.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { Pager } from '../components/pager.tsx';
import { SAMPLE_TARGET_KEY, SampleProjectButton } from '../components/sample-project.tsx';
import { UploadPanel } from '../components/upload-panel.tsx';
import { VerdictBadge } from '../components/verdict-badge.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { NO_FILTER, filterItems, pageOf, verdictOf } from '../lib/items.ts';
import type { ItemFilter, Verdict } from '../lib/items.ts';
import { useLoad } from '../lib/use-load.ts';

type Tab = 'training' | 'predict' | 'archived';
const TABS: { id: Tab; label: MessageKey }[] = [
  { id: 'training', label: 'tabTraining' },
  { id: 'predict', label: 'tabPredict' },
  { id: 'archived', label: 'tabArchived' },
];
const PAGE_SIZE = 48;

export function ItemsPage(props: { tab: string | null }) {
  const { t } = useI18n();
  const app = useApp();
  const tab: Tab = props.tab === 'predict' || props.tab === 'archived' ? props.tab : 'training';
  const items = useLoad(() => app.session.sdk.getItems({ target: app.target }), [app.session, app.target]);
  // New items, finished predictions and reviews (from this or another browser, the CLI, the line) show up live;
  // a slower safety poll, since reloading thousands of items is not free.
  useLiveRefresh(() => void items.reload(true), true, 3000);
  const [filter, setFilter] = useState<ItemFilter>(NO_FILTER);
  const [page, setPage] = useState(1);

  const list = items.data?.[tab] ?? [];
  const filtered = useMemo(() => filterItems(list, filter), [list, filter]);
  const shown = pageOf(filtered, page, PAGE_SIZE);
  const verdicts: Verdict[] = tab === 'training' ? ['good', 'defect', 'unlabelled'] : ['OK', 'NG', 'pending'];
  const verdictLabel: Record<Verdict, MessageKey> = {
    OK: 'verdictOK', NG: 'verdictNG', pending: 'verdictPending', good: 'labelGood', defect: 'labelDefect', unlabelled: 'verdictUnlabelled',
  };
  const changeFilter = (change: Partial<ItemFilter>) => {
    setFilter({ ...filter, ...change });
    setPage(1);
  };

  return (
    <div class="page items-page">
      <div class="page-head">
        <h1>{t('itemsTitle')}</h1>
        <button type="button" onClick={() => items.reload(true)}>{t('refresh')}</button>
      </div>
      <div class="two-columns">
        <div class="column-main">
          <div class="tabs" role="tablist">
            {TABS.map((entry) => (
              <a
                key={entry.id}
                role="tab"
                href={`#/items?tab=${entry.id}`}
                aria-selected={tab === entry.id}
                class="tab"
                data-tab={entry.id}
                onClick={() => setPage(1)}
              >
                {t(entry.label)} <span class="count">{items.data?.[entry.id].length ?? '…'}</span>
              </a>
            ))}
          </div>
          <div class="filter-bar" role="search">
            <label class="field field-inline grow">
              <span class="visually-hidden">{t('filterLabel')}</span>
              <input
                type="search"
                placeholder={t('filterPlaceholder')}
                value={filter.text}
                data-testid="item-filter"
                onInput={(e) => changeFilter({ text: e.currentTarget.value })}
              />
            </label>
            <label class="field field-inline">
              <span>{t('filterStatus')}</span>
              <select value={filter.status} onChange={(e) => changeFilter({ status: e.currentTarget.value as ItemFilter['status'] })}>
                <option value="any">{t('any')}</option>
                <option value="pending">{t('statusPending')}</option>
                <option value="done">{t('statusDone')}</option>
              </select>
            </label>
            <label class="field field-inline">
              <span>{t('filterVerdict')}</span>
              <select value={filter.verdict} onChange={(e) => changeFilter({ verdict: e.currentTarget.value as ItemFilter['verdict'] })}>
                <option value="any">{t('any')}</option>
                {verdicts.map((v) => (
                  <option key={v} value={v}>{t(verdictLabel[v])}</option>
                ))}
              </select>
            </label>
          </div>
          <ErrorNotice error={items.error} />
          {items.loading && !items.data ? (
            <p class="muted">{t('loading')}</p>
          ) : list.length === 0 ? (
            <>
              <p class="empty">{t('noItems')}</p>
              {items.data && items.data.training.length + items.data.predict.length + items.data.archived.length === 0 && (
                <SampleProjectButton onDone={() => items.reload(true)} />
              )}
            </>
          ) : filtered.length === 0 ? (
            <p class="empty">{t('noMatches')}</p>
          ) : (
            <>
              <p class="muted small" data-testid="item-count">{t('itemCount', { shown: shown.rows.length, total: filtered.length })}</p>
              <ul class="item-grid" data-testid="item-grid">
                {shown.rows.map((item) => (
                  <ItemCard key={item.item_id} item={item} archived={tab === 'archived'} />
                ))}
              </ul>
              <Pager page={shown.page} pages={shown.pages} onPage={setPage} />
            </>
          )}
        </div>
        <aside class="column-side">
          {app.target !== undefined && String(app.target) === sessionStorage.getItem(SAMPLE_TARGET_KEY) && list.length > 0 && (
            <SampleProjectButton resultsOnly onDone={() => items.reload(true)} />
          )}
          <UploadPanel
            defaultKind={tab === 'predict' ? 'predict' : 'good'}
            onUploaded={() => {
              void items.reload(true);
            }}
          />
        </aside>
      </div>
    </div>
  );
}

export function ItemCard(props: { item: Item; archived?: boolean; selectable?: { checked: boolean; onToggle: () => void } }) {
  const { t, language } = useI18n();
  const { item } = props;
  const verdict = verdictOf(item);
  return (
    <li class={`item-card verdict-${verdict.toLowerCase()}`} data-item-id={item.item_id} data-verdict={verdict}>
      {props.selectable && (
        <label class="item-select">
          <input type="checkbox" checked={props.selectable.checked} onChange={props.selectable.onToggle} aria-label={item.item_id} />
        </label>
      )}
      <a href={itemHref(item.item_id, props.archived)} class="item-link" onClick={(e) => {
        e.preventDefault();
        navigate(itemHref(item.item_id, props.archived));
      }}>
        <AuthImage url={item.thumbnail_image ?? item.default_image} alt={item.item_id} class="thumb" />
        <span class="item-id ellipsis" title={item.item_id}>{item.item_id}</span>
      </a>
      <div class="item-meta">
        <VerdictBadge verdict={verdict} />
        {item.confirmed_assessment && <span class="badge badge-confirmed">{t('confirmed')}</span>}
        {!!item.detected_objects && <span class="small muted">{t('detectedObjects', { count: item.detected_objects })}</span>}
      </div>
      <div class="small muted">{formatDate(item.finished_date ?? item.created_at, language)}</div>
    </li>
  );
}
