// The audit trail of the product line: every prediction in a date range with its model, version, threshold, score
// and the reviewer's decision — downloaded as CSV (GET /api/v1/audit/predictions) or printed from this page.
import { useState } from 'preact/hooks';
import type { AuditPredictions } from '@kensa/sdk';
import { itemHref, useApp } from '../app-context.tsx';
import { formatScore } from '../components/charts.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import { useAction } from '../lib/use-load.ts';
import type { MessageKey } from '../i18n/messages.ts';

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const REVIEW_LABEL: Record<'confirmed' | 'overridden' | 'none', MessageKey> = { confirmed: 'auditConfirmed', overridden: 'auditOverridden', none: 'auditNotReviewed' };

export function AuditPage() {
  const { t, language } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const [from, setFrom] = useState(day(-6));
  const [to, setTo] = useState(day(0));
  const [result, setResult] = useState<AuditPredictions | null>(null);
  const { busy, error, run } = useAction();
  const range = { from, to, target: app.target };
  const show = () => run(async () => setResult(await sdk.getAuditPredictions(range)));
  const download = () => run(async () => {
    const bytes = await sdk.exportAuditCsv(range);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'text/csv' }));
    link.download = `kensa-predictions-${from}-${to}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  });

  return (
    <div class="page audit-page">
      <div class="page-head">
        <h1>{t('auditTitle')}</h1>
      </div>
      <p class="muted no-print">{t('auditIntro')}</p>
      <form class="filter-bar no-print" onSubmit={(e) => { e.preventDefault(); void show(); }}>
        <label class="field field-inline"><span>{t('filterFrom')}</span>
          <input type="date" value={from} required data-testid="audit-from" onChange={(e) => setFrom(e.currentTarget.value)} /></label>
        <label class="field field-inline"><span>{t('filterTo')}</span>
          <input type="date" value={to} required data-testid="audit-to" onChange={(e) => setTo(e.currentTarget.value)} /></label>
        <button type="submit" class="button-primary" disabled={busy} data-testid="audit-show">{t('auditShow')}</button>
        <button type="button" disabled={busy} data-testid="audit-csv" onClick={() => void download()}>{t('auditDownload')}</button>
        {result && <button type="button" onClick={() => print()} data-testid="audit-print">{t('auditPrint')}</button>}
      </form>
      <ErrorNotice error={error} />
      {result && (
        <section class="audit-report" data-testid="audit-report">
          <h2>{t('auditHeading', { line: result.product_line, from, to })}</h2>
          <p class="small">{t('auditCount', { count: result.rows.length })} · {t('auditPrinted', { date: formatDate(new Date().toISOString(), language) })}</p>
          {result.rows.length === 0 ? <p class="empty">{t('auditNone')}</p> : (
            <table class="table compact audit-table">
              <thead>
                <tr>
                  <th>{t('auditWhen')}</th><th>{t('auditItem')}</th><th>{t('model')}</th><th>{t('version')}</th>
                  <th class="num">{t('thresholdChosen')}</th><th class="num">{t('score')}</th><th>{t('verdict')}</th><th>{t('auditReview')}</th><th>{t('auditFinal')}</th>
                </tr>
              </thead>
              <tbody>
                {result.rows.map((row) => (
                  <tr key={`${row.item_id}-${row.model_id}`} data-item-id={row.item_id}>
                    <td>{formatDate(row.finished_at, language)}</td>
                    <td class="break-anywhere"><a href={itemHref(row.item_id, app.target)}>{row.item_id}</a></td>
                    <td>{row.model_name}</td>
                    <td class="break-anywhere small">{row.model_version}</td>
                    <td class="num">{formatScore(row.threshold)}</td>
                    <td class="num">{formatScore(row.score)}</td>
                    <td>{row.verdict}</td>
                    <td>{t(REVIEW_LABEL[row.review])}</td>
                    <td><strong>{row.final_verdict}</strong></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </div>
  );
}
