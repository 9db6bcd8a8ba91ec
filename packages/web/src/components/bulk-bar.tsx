// What to do with the selected items: label them (OK / NG / unlabelled), archive or restore them, or move them to
// another product line — one request each (POST /api/v1/items/bulk), all or none.
import { useState } from 'preact/hooks';
import type { ItemRow } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { Tab } from '../lib/item-rows.ts';
import { useAction } from '../lib/use-load.ts';
import { ErrorNotice } from './error-notice.tsx';

export function BulkBar(props: {
  tab: Tab;
  shown: readonly ItemRow[];
  selected: ReadonlySet<string>;
  onSelect: (next: Set<string>) => void;
  onDone: (message: string) => Promise<void>;
}) {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const { busy, error, run: act } = useAction();
  const [destination, setDestination] = useState('');
  const ids = [...props.selected];
  const count = ids.length;
  const otherLines = app.targets.filter((target) => target.target_id !== app.target);

  const run = (action: () => Promise<unknown>, message: string) => act(async () => {
    await action();
    await props.onDone(message);
  });
  const label = (good: boolean | null) => run(() => sdk.labelItems(ids, good), t('bulkLabelled', { count }));
  const training = props.tab === 'training';

  return (
    <div class="bulk-bar" role="toolbar" aria-label={t('bulkToolbar')} data-testid="bulk-bar">
      <span class="small" aria-live="polite" data-testid="selected-count">{t('selectedCount', { count })}</span>
      <button type="button" class="button-quiet" data-testid="select-all-shown" disabled={props.shown.length === 0}
        onClick={() => props.onSelect(new Set(props.shown.map((row) => row.item_id)))}>
        {t('selectAllShown', { count: props.shown.length })}
      </button>
      {count > 0 && (
        <>
          <button type="button" class="button-quiet" onClick={() => props.onSelect(new Set())}>{t('selectNone')}</button>
          {props.tab !== 'archived' && (
            <span class="button-group" role="group" aria-label={t('bulkLabel')}>
              <button type="button" disabled={busy} data-testid="bulk-ok" onClick={() => void label(true)}>{training ? t('labelGood') : t('verdictOK')}</button>
              <button type="button" disabled={busy} data-testid="bulk-ng" onClick={() => void label(false)}>{training ? t('labelDefect') : t('verdictNG')}</button>
              <button type="button" disabled={busy} data-testid="bulk-unlabelled" onClick={() => void label(null)}>
                {training ? t('verdictUnlabelled') : t('bulkClearReview')}
              </button>
            </span>
          )}
          {props.tab === 'archived' ? (
            <button type="button" disabled={busy} data-testid="bulk-restore" onClick={() => void run(() => sdk.archiveItems(ids, false), t('bulkRestored', { count }))}>
              {t('restoreItem')}
            </button>
          ) : (
            <button type="button" disabled={busy} data-testid="bulk-archive" onClick={() => void run(() => sdk.archiveItems(ids, true), t('bulkArchived', { count }))}>
              {t('archiveItem')}
            </button>
          )}
          {otherLines.length > 0 && (
            <span class="button-group">
              <label class="field-inline">
                <span class="visually-hidden">{t('bulkMoveTo')}</span>
                <select value={destination} data-testid="bulk-move-target" onChange={(e) => setDestination(e.currentTarget.value)}>
                  <option value="">{t('bulkMoveTo')}</option>
                  {otherLines.map((target) => (
                    <option key={target.target_id} value={String(target.target_id)}>{target.default ? t('targetDefault') : target.name}</option>
                  ))}
                </select>
              </label>
              <button type="button" disabled={busy || !destination} data-testid="bulk-move"
                onClick={() => {
                  const target = otherLines.find((entry) => String(entry.target_id) === destination);
                  if (target) void run(() => sdk.moveItems(ids, target.target_id), t('bulkMoved', { count, line: target.default ? t('targetDefault') : target.name }));
                }}>
                {t('bulkMove')}
              </button>
            </span>
          )}
        </>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}
