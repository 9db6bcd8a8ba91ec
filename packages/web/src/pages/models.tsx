import { useState } from 'preact/hooks';
import type { Model } from '@kensa/sdk';
import { useApp, useLiveRefresh } from '../app-context.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { formatDate, formatPercent, useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { modelThreshold } from '../lib/scores.ts';
import { useLoad } from '../lib/use-load.ts';
import { formatScore } from '../components/charts.tsx';

const STATUS_LABEL: Record<string, MessageKey> = { creating: 'statusCreating', active: 'statusActive', failed: 'statusFailed' };
/** Why training chose its threshold (the engine's codes). */
const REASON_LABEL: Record<string, MessageKey> = { best_f1: 'reasonBestF1', held_out_ok: 'reasonHeldOutOk', user: 'reasonUser' };

export function ModelsPage(props: { highlight: string | null }) {
  const { t, language } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const models = useLoad(() => sdk.getModels(), [app.session, language]); // status texts come translated
  const [error, setError] = useState<unknown>(null);
  const list = [...(models.data ?? [])].sort((a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')));
  const training = list.some((m) => m.status === 'creating');
  // Live progress while something trains; quiet reloads keep the table steady.
  useLiveRefresh(() => void models.reload(true), training);

  const remove = async (model: Model) => {
    if (!confirm(t('deleteModelConfirm', { name: model.name }))) return;
    setError(null);
    try {
      await sdk.deleteModels([model.model_id]);
      await models.reload(true);
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    }
  };

  return (
    <div class="page models-page">
      <div class="page-head">
        <h1>{t('modelsTitle')}</h1>
        <button type="button" onClick={() => models.reload(true)}>{t('refresh')}</button>
      </div>
      <ErrorNotice error={models.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      {models.loading && !models.data ? (
        <p class="muted">{t('loading')}</p>
      ) : list.length === 0 ? (
        <p class="empty">{t('noModels')} <a href="#/train">{t('navTrain')} →</a></p>
      ) : (
        <ul class="model-list" data-testid="model-list">
          {list.map((model) => {
            const progress = typeof model.progress === 'number' ? Math.max(0, Math.min(1, model.progress)) : null;
            const highlighted = props.highlight !== null && String(model.model_id) === props.highlight;
            const evaluation = model.evaluation as { auroc?: unknown; threshold_reason?: unknown; threshold?: unknown } | null | undefined;
            const threshold = modelThreshold(model);
            return (
              <li key={String(model.model_id)} class={`panel model-card status-${model.status} ${highlighted ? 'highlighted' : ''}`} data-model-id={String(model.model_id)} data-status={model.status}>
                <div class="model-head">
                  <h2 class="ellipsis" title={model.name}>{model.name}</h2>
                  <span class={`badge badge-status-${model.status}`}>{t(STATUS_LABEL[model.status] ?? 'status')}</span>
                  {model.active && <span class="badge badge-active">{t('activeModel')}</span>}
                  <span class="grow" />
                  <button type="button" class="button-quiet button-danger-text" onClick={() => remove(model)} disabled={model.status === 'creating'}>
                    {t('deleteModel')}
                  </button>
                </div>
                {model.status === 'creating' && (
                  <div class="progress-row">
                    <progress max={1} value={progress ?? undefined} aria-label={t('progress')} />
                    <span class="small">{progress === null ? t('statusCreating') : `${Math.round(progress * 100)} %`}</span>
                  </div>
                )}
                {model.status === 'failed' && (
                  <p class="text-error" role="alert">{t('failedBecause', { reason: model.status_text || '—' })}</p>
                )}
                <dl class="model-facts">
                  <div>
                    <dt>{t('algorithm')}</dt>
                    <dd><code>{model.algorithm_id}</code></dd>
                  </div>
                  <div>
                    <dt>{t('version')}</dt>
                    <dd class="break-anywhere">{model.version || '—'}</dd>
                  </div>
                  <div>
                    <dt>{t('images')}</dt>
                    <dd>{t('okNgImages', { ok: model.ok_img_count ?? 0, ng: model.ng_img_count ?? 0 })}</dd>
                  </div>
                  <div>
                    <dt>{t('precision')}</dt>
                    <dd>
                      <span class="block">{formatPercent(model.stats?.precision?.projected)} <span class="muted small">{t('projected')}</span></span>
                      <span class="block">{formatPercent(model.stats?.precision?.computed)} <span class="muted small">{t('computed')}</span></span>
                    </dd>
                  </div>
                  <div>
                    <dt>{t('recall')}</dt>
                    <dd>
                      <span class="block">{formatPercent(model.stats?.recall?.projected)} <span class="muted small">{t('projected')}</span></span>
                      <span class="block">{formatPercent(model.stats?.recall?.computed)} <span class="muted small">{t('computed')}</span></span>
                    </dd>
                  </div>
                  {evaluation && typeof evaluation.auroc === 'number' && (
                    <div>
                      <dt>AUROC</dt>
                      <dd>{evaluation.auroc.toFixed(3)}</dd>
                    </div>
                  )}
                  {threshold !== null && (
                    <div>
                      <dt>{t('thresholdChosen')}</dt>
                      <dd>
                        {formatScore(threshold)}
                        {typeof evaluation?.threshold_reason === 'string' && (
                          <span class="muted small block">
                            {REASON_LABEL[evaluation.threshold_reason] ? t(REASON_LABEL[evaluation.threshold_reason]) : evaluation.threshold_reason}
                          </span>
                        )}
                      </dd>
                    </div>
                  )}
                  <div>
                    <dt>{t('created')}</dt>
                    <dd>{formatDate(model.created_at, language)}</dd>
                  </div>
                </dl>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
