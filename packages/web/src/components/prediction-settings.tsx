import { useState } from 'preact/hooks';
import type { Algorithm, Model } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { checkValue, displayValue } from '../lib/parameters.ts';
import { modelThreshold } from '../lib/scores.ts';
import { formatScore } from './charts.tsx';
import { ErrorNotice, SuccessNotice } from './error-notice.tsx';

/**
 * The parameters that only shape how a trained model reports (threshold, smallest box, ignored border, …)
 * changed without retraining. Which ones qualify comes from the algorithm's schema (`model_parameter: false`).
 */
export function PredictionSettings(props: { model: Model; algorithm: Algorithm | undefined; onSaved: (model: Model) => void }) {
  const { t } = useI18n();
  const app = useApp();
  const adjustable = (props.algorithm?.parameters ?? []).filter((p) => p.model_parameter === false);
  const current = (name: string) => displayValue(props.model.parameters?.find((p) => p.name === name)?.value ?? null);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(adjustable.map((p) => [p.name, current(p.name)])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  if (adjustable.length === 0) return null;
  // Left empty, the threshold is the one training chose: shown so the person knows what they change.
  const chosenThreshold = modelThreshold(props.model);

  const problems = Object.fromEntries(adjustable.map((p) => [p.name, checkValue(p, values[p.name] ?? '')]));
  const changed = adjustable.filter((p) => (values[p.name] ?? '').trim() !== current(p.name) && (values[p.name] ?? '').trim() !== '');

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const overrides = changed.map((p) => {
        const text = values[p.name].trim();
        return { algorithm_parameter_id: p.algorithm_parameter_id, value: p.data_type === 'tuple' ? `[${text.split(/\s*[,x]\s*/).join(', ')}]` : text };
      });
      const model = await app.session.updatePredictionParameters(props.model.model_id, overrides);
      setSaved(t('predictionSettingsSaved'));
      props.onSaved(model);
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="prediction-settings">
      <summary>{t('predictionSettings')}</summary>
      <form onSubmit={save}>
        <p class="muted small">{t('predictionSettingsHelp')}</p>
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        <SuccessNotice message={saved} />
        <div class="parameter-grid">
          {adjustable.map((p) => {
            const id = `model-${props.model.model_id}-${p.name}`;
            const problem = problems[p.name];
            return (
              <div class="parameter" key={p.name}>
                <label for={id} class="parameter-name"><code>{p.name}</code> <span class="small muted">{p.data_type}</span></label>
                <input
                  id={id}
                  name={p.name}
                  value={values[p.name] ?? ''}
                  placeholder={p.name === 'threshold' && chosenThreshold !== null ? `${t('automatic')} (${formatScore(chosenThreshold)})` : t('automatic')}
                  aria-invalid={problem ? true : undefined}
                  onInput={(e) => setValues({ ...values, [p.name]: e.currentTarget.value })}
                />
                {problem && <div class="text-error small" role="alert">{t(problem)}</div>}
              </div>
            );
          })}
        </div>
        <div class="actions">
          <button type="submit" class="button-primary" disabled={busy || changed.length === 0 || Object.values(problems).some(Boolean)}>
            {busy ? t('saving') : t('applySettings')}
          </button>
        </div>
      </form>
    </details>
  );
}
