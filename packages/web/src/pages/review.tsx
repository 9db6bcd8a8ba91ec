import { useState } from 'preact/hooks';
import { itemHref, useApp } from '../app-context.tsx';
import { AuthImage } from '../components/auth-image.tsx';
import { formatScore } from '../components/charts.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { VerdictBadge } from '../components/verdict-badge.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { loadScores, modelThreshold, reviewOrder } from '../lib/scores.ts';
import { useLoad } from '../lib/use-load.ts';

export function ReviewPage() {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const [error, setError] = useState<unknown>(null);
  const [reviewed, setReviewed] = useState<Set<string>>(new Set());
  const loaded = useLoad(async () => {
    const [items, models] = await Promise.all([sdk.getItems({ target: app.target }), sdk.getModels({ target: app.target })]);
    const active = models.find((m) => m.active && m.status === 'active') ?? null;
    const open = items.predict.filter((i) => i.status === 'done' && !i.confirmed_assessment);
    const scored = active ? await loadScores(sdk, open, active.model_id, 200) : [];
    return { active, queue: reviewOrder(scored.filter((s) => !s.confirmed), modelThreshold(active)) };
  }, [app.session, app.target]);

  const review = async (itemId: string, good: boolean) => {
    setError(null);
    try {
      await sdk.reviewItem(itemId, good);
      setReviewed(new Set([...reviewed, itemId]));
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    }
  };

  const queue = (loaded.data?.queue ?? []).filter((s) => !reviewed.has(s.item.item_id));
  return (
    <div class="page review-page">
      <div class="page-head">
        <h1>{t('reviewQueueTitle')}</h1>
        <span class="grow" />
        <button type="button" onClick={() => { setReviewed(new Set()); void loaded.reload(); }}>{t('refresh')}</button>
      </div>
      <p class="muted">{t('reviewQueueIntro')}</p>
      <ErrorNotice error={loaded.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      {loaded.loading && !loaded.data ? (
        <p class="muted">{t('loading')}</p>
      ) : queue.length === 0 ? (
        !loaded.error && <p class="empty">{t('reviewQueueEmpty')}</p>
      ) : (
        <ul class="review-list" data-testid="review-queue">
          {queue.map((entry) => (
            <li key={entry.item.item_id} class="panel review-row" data-item-id={entry.item.item_id}>
              <AuthImage url={entry.item.thumbnail_image ?? entry.item.default_image} alt={entry.item.item_id} class="thumb-small" />
              <a href={itemHref(entry.item.item_id, app.target)} class="ellipsis grow" title={entry.item.item_id}>{entry.item.item_id}</a>
              <VerdictBadge verdict={entry.label} />
              <span class="num small">{t('score')} {formatScore(entry.score)}</span>
              <button type="button" class="button-ok" onClick={() => review(entry.item.item_id, true)}>
                {entry.label === 'OK' ? t('confirmOK') : t('overrideTo', { verdict: t('verdictOK') })}
              </button>
              <button type="button" class="button-ng" onClick={() => review(entry.item.item_id, false)}>
                {entry.label === 'NG' ? t('confirmNG') : t('overrideTo', { verdict: t('verdictNG') })}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
