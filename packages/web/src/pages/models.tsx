import { useRef, useState } from 'preact/hooks';
import type { Model } from '@kensa/sdk';
import { useApp, useLiveRefresh } from '../app-context.tsx';
import { ErrorNotice, SuccessNotice } from '../components/error-notice.tsx';
import { PredictionSettings } from '../components/prediction-settings.tsx';
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
  const models = useLoad(() => sdk.getModels({ target: app.target }), [app.session, app.target, language]); // status texts come translated
  const algorithms = useLoad(() => sdk.getAlgorithms(), [app.session, language]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  // Files of other installations (or unsigned) are imported only when the person says they trust where they come from.
  const [trustImport, setTrustImport] = useState(false);
  const importInput = useRef<HTMLInputElement>(null);
  // Newest first; models made in the same second by their id (ids grow).
  const list = [...(models.data ?? [])].sort(
    (a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')) || Number(b.model_id) - Number(a.model_id) || 0,
  );
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

  const act = async (action: () => Promise<void>) => {
    setError(null);
    setMessage(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    }
  };

  // One portable file per model, saved by the browser; imported on another installation.
  const exportModel = (model: Model) =>
    act(async () => {
      const bytes = await sdk.exportModel(model.model_id);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      link.download = `${model.name.replace(/[^\w.-]+/g, '_')}.kensa-model`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    });

  const importModel = (file: File) =>
    act(async () => {
      setImporting(true);
      try {
        const model = await sdk.importModel(file, { target: app.target, trust: trustImport });
        await models.reload(true);
        setMessage(t('modelImported', { name: model.name }));
      } finally {
        setImporting(false);
      }
    });

  return (
    <div class="page models-page">
      <div class="page-head">
        <h1>{t('modelsTitle')}</h1>
        <button type="button" onClick={() => models.reload(true)}>{t('refresh')}</button>
        <span class="grow" />
        <button type="button" disabled={importing} onClick={() => importInput.current?.click()} data-testid="import-model">
          {importing ? t('importing') : t('importModel')}
        </button>
        <label class="checkbox" title={t('importTrustHint')}>
          <input type="checkbox" checked={trustImport} onChange={() => setTrustImport(!trustImport)} data-testid="import-model-trust" />
          {t('importTrust')}
        </label>
        <input
          ref={importInput}
          type="file"
          class="visually-hidden"
          tabIndex={-1}
          aria-label={t('importModel')}
          data-testid="import-model-file"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) void importModel(file);
          }}
        />
      </div>
      <ErrorNotice error={models.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      <SuccessNotice message={message} />
      {models.loading && !models.data ? (
        <p class="muted">{t('loading')}</p>
      ) : list.length === 0 ? (
        <p class="empty">{t('noModels')} <a href={app.href('#/train')}>{t('navTrain')} →</a></p>
      ) : (
        <ul class="model-list" data-testid="model-list">
          {list.map((model) => {
            const progress = typeof model.progress === 'number' ? Math.max(0, Math.min(1, model.progress)) : null;
            const highlighted = props.highlight !== null && String(model.model_id) === props.highlight;
            const evaluation = model.evaluation;
            // Parameters AutoTune compared candidates for (the others kept their defaults).
            const autoTuned = Object.entries(evaluation?.auto_tuned ?? {}).filter(([, tuned]) => tuned.scores.length > 0);
            const threshold = modelThreshold(model);
            return (
              <li key={String(model.model_id)} class={`panel model-card status-${model.status} ${highlighted ? 'highlighted' : ''}`} data-model-id={String(model.model_id)} data-status={model.status}>
                <div class="model-head">
                  <h2 class="ellipsis" title={model.name}>{model.name}</h2>
                  <span class={`badge badge-status-${model.status}`}>{t(STATUS_LABEL[model.status] ?? 'status')}</span>
                  {model.active && <span class="badge badge-active">{t('activeModel')}</span>}
                  <span class="grow" />
                  {model.status === 'active' && (
                    <button type="button" class="button-quiet" onClick={() => exportModel(model)} data-testid="export-model">
                      {t('exportModel')}
                    </button>
                  )}
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
                        {/* Training's reason holds only while its threshold is the one in use. */}
                        {evaluation?.threshold !== threshold ? (
                          <span class="muted small block">{t('reasonUser')}</span>
                        ) : typeof evaluation?.threshold_reason === 'string' && (
                          <span class="muted small block">
                            {REASON_LABEL[evaluation.threshold_reason] ? t(REASON_LABEL[evaluation.threshold_reason]) : evaluation.threshold_reason}
                          </span>
                        )}
                      </dd>
                    </div>
                  )}
                  {autoTuned.length > 0 && (
                    <div data-testid="auto-tuned">
                      <dt>{t('autoTuned')}</dt>
                      <dd>
                        {autoTuned.map(([name, tuned]) => (
                          <span key={name} class="block" title={tuned.scores.map((c) => `${c.value}: AUROC ${c.auroc.toFixed(3)}`).join('\n')}>
                            <code>{name}</code> = {tuned.chosen}{' '}
                            <span class="muted small">{t('autoTunedOf', { candidates: tuned.scores.map((c) => c.value).join(', ') })}</span>
                          </span>
                        ))}
                      </dd>
                    </div>
                  )}
                  <div>
                    <dt>{t('created')}</dt>
                    <dd>{formatDate(model.created_at, language)}</dd>
                  </div>
                </dl>
                {model.status === 'active' && (
                  <p><a href={app.href(`#/evaluate?model=${encodeURIComponent(String(model.model_id))}`)} data-testid="evaluate-link">{t('evaluateLink')}</a></p>
                )}
                {model.status === 'active' && algorithms.data && (
                  <PredictionSettings
                    key={String(model.model_id)}
                    model={model}
                    algorithm={algorithms.data.find((a) => a.algorithm_id === model.algorithm_id)}
                    onSaved={() => void models.reload(true)}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
