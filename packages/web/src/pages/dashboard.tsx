import type { Model } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { ScoreHistogram, VerdictBars, formatScore } from '../components/charts.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { formatPercentage, useI18n } from '../i18n/i18n.tsx';
import { scoreHistogram } from '../lib/histogram.ts';
import { loadScores, modelThreshold } from '../lib/scores.ts';
import { useLoad } from '../lib/use-load.ts';

export function DashboardPage() {
  const { t, language } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const loaded = useLoad(async () => {
    const [items, models] = await Promise.all([sdk.getItems({ target: app.target }), sdk.getModels({ target: app.target })]);
    const active = models.find((m) => m.active && m.status === 'active') ?? null;
    const scores = active ? await loadScores(sdk, items.predict, active.model_id) : [];
    return { summary: items.summary, models, active, scores };
  }, [app.session, app.target, language]); // the summary title comes translated

  const data = loaded.data;
  const modelName = (id: unknown, models: Model[]) => models.find((m) => String(m.model_id) === String(id))?.name ?? String(id);
  const stats = data?.summary.predict_stats ?? [];
  const threshold = modelThreshold(data?.active);
  const bins = data ? scoreHistogram(data.scores.map((s) => ({ score: s.score, label: s.label })), threshold) : [];

  return (
    <div class="page dashboard-page">
      <div class="page-head">
        <h1>{t('dashboardTitle')}</h1>
        {data?.summary.title && <span class="muted ellipsis">{data.summary.title}</span>}
        <span class="grow" />
        <button type="button" onClick={() => loaded.reload(true)}>{t('refresh')}</button>
      </div>
      <ErrorNotice error={loaded.error} />
      {loaded.loading && !data && <p class="muted">{t('loading')}</p>}
      {data && (
        <div class="dashboard-grid">
          <section class="panel">
            <h2>{t('trainingSet')}</h2>
            <div class="stat-row">
              <div class="stat"><span class="stat-value">{data.summary.training_stats?.OK_count ?? 0}</span><span class="stat-label">{t('labelGood')}</span></div>
              <div class="stat"><span class="stat-value">{data.summary.training_stats?.NG_count ?? 0}</span><span class="stat-label">{t('labelDefect')}</span></div>
            </div>
          </section>
          <section class="panel span-2">
            <h2>{t('summaryPerModel')}</h2>
            {stats.length === 0 ? (
              <p class="muted">{t('noPredictions')}</p>
            ) : (
              <>
                <div class="table-scroll">
                  <table class="table" data-testid="summary-table">
                    <thead>
                      <tr>
                        <th>{t('model')}</th>
                        <th class="num">{t('okCount')}</th>
                        <th class="num">{t('ngCount')}</th>
                        <th class="num">{t('doneCount')}</th>
                        <th class="num">{t('confirmedCount')}</th>
                        <th class="num">{t('adjustedCount')}</th>
                        <th class="num">{t('accuracy')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {stats.map((row) => (
                        <tr key={String(row.model_id)}>
                          <td class="ellipsis" title={modelName(row.model_id, data.models)}>{modelName(row.model_id, data.models)}</td>
                          <td class="num">{row.OK_count}</td>
                          <td class="num">{row.NG_count}</td>
                          <td class="num">{row.done_count}</td>
                          <td class="num">{row.confirmed_count}</td>
                          <td class="num">{row.adjusted_count}</td>
                          <td class="num">{row.confirmed_count > 0 ? formatPercentage(row.accuracy) : '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <VerdictBars
                  label={t('summaryPerModel')}
                  rows={stats.map((row) => ({ name: modelName(row.model_id, data.models), ok: row.OK_count, ng: row.NG_count }))}
                />
                <Legend />
              </>
            )}
          </section>
          <section class="panel span-3">
            <h2>
              {t('histogramTitle')}
              {data.active && <span class="muted small"> — {data.active.name}</span>}
            </h2>
            <p class="muted small">{t('histogramHelp')}</p>
            {bins.length === 0 || data.scores.length === 0 ? (
              <p class="muted">{t('noScores')}</p>
            ) : (
              <>
                <ScoreHistogram
                  bins={bins}
                  threshold={threshold}
                  label={t('scoresOf', { count: data.scores.length })}
                  thresholdLabel={threshold === null ? '' : t('threshold', { value: formatScore(threshold) })}
                />
                <Legend />
                <p class="muted small">{t('scoresOf', { count: data.scores.length })}</p>
              </>
            )}
          </section>
        </div>
      )}
    </div>
  );
}

function Legend() {
  const { t } = useI18n();
  return (
    <p class="legend small">
      <span class="swatch swatch-ok" aria-hidden="true" /> {t('verdictOK')}
      <span class="swatch swatch-ng" aria-hidden="true" /> {t('verdictNG')}
    </p>
  );
}
