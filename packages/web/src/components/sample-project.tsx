// "Load sample project" on an empty items page: asks the server to make the same sample project as `kensa demo`
// (POST /api/v1/samples), follows the job's progress, then shows how the held-back images were judged, with
// links to their item pages. The project lives in its own target, "Kensa demo".
import { useEffect, useState } from 'preact/hooks';
import type { SampleProjectJob } from '@kensa/sdk';
import { itemHref, useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { ErrorNotice } from './error-notice.tsx';

type SampleJob = SampleProjectJob;

const STEP_LABEL: Record<SampleJob['step'], MessageKey> = {
  images: 'sampleStepImages', upload: 'sampleStepUpload', train: 'sampleStepTrain', predict: 'sampleStepPredict', done: 'sampleStepDone',
};
const POLL_MS = 1000;
/** The product line of the sample project made in this tab, whose items page shows the results beside the items. */
export const SAMPLE_TARGET_KEY = 'kensa.sample.target';

/** `resultsOnly`: beside the sample's items, where offering to make it again would only confuse. */
export function SampleProjectButton(props: { onDone?: () => void; resultsOnly?: boolean }) {
  const { t } = useI18n();
  const app = useApp();
  const session = app.session;
  const [job, setJob] = useState<SampleJob | null>(null);
  const [error, setError] = useState<unknown>(null);

  // A job started before (another visit of this page) is shown again.
  useEffect(() => {
    session.sdk.getSampleProjects().then((jobs) => setJob(jobs[0] ?? null), () => { /* nothing to show */ });
  }, [session]);

  useEffect(() => {
    if (job?.status !== 'running') return;
    const timer = setTimeout(() => {
      session.sdk.getSampleProject(job.job_id).then((next) => {
        setJob(next);
        if (next.status === 'done') {
          // The project lives in its own product line: switch to it so that its items and model are in view.
          // The items page keeps the results in view there (this tab only).
          if (next.target_id !== null) {
            sessionStorage.setItem(SAMPLE_TARGET_KEY, String(next.target_id));
            if (next.target_id !== app.target) void app.chooseTarget(next.target_id);
          }
          props.onDone?.();
        }
      }, setError);
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job, session]);

  const start = () => {
    setError(null);
    session.sdk.createSampleProject().then(setJob, setError);
  };

  return (
    <section class="card sample-project" data-testid="sample-project">
      <h2>{t('sampleTitle')}</h2>
      {!props.resultsOnly && <p class="muted">{t('sampleExplain')}</p>}
      <ErrorNotice error={error} />
      {job?.status === 'running' ? (
        <div class="progress-row" data-testid="sample-progress">
          <progress max={100} value={Math.round(job.progress * 100)} aria-label={t('sampleTitle')} />
          <span class="muted small">{t(STEP_LABEL[job.step])} — {Math.round(job.progress * 100)} %</span>
        </div>
      ) : props.resultsOnly ? null : (
        <button type="button" class="primary" data-testid="load-sample-project" onClick={start}>{t('sampleLoad')}</button>
      )}
      {job?.status === 'failed' && <p class="error" role="alert">{t('sampleFailed', { reason: job.error ?? '' })}</p>}
      {job?.status === 'done' && job.results && (
        <div data-testid="sample-results">
          <p>{t('sampleResults', {
            found: job.results.defective_found, defective: job.results.defective, passed: job.results.good_passed, good: job.results.good,
          })}</p>
          <ul class="sample-items">
            {job.item_ids.map((id) => <li key={id}><a href={itemHref(id, job.target_id ?? app.target)}>{id}</a></li>)}
          </ul>
        </div>
      )}
    </section>
  );
}
