// A model judged on its held-out images, and two models side by side on the same images: ROC and precision–recall
// curves, the confusion matrix at the current threshold, a threshold slider that shows which images and which of the
// line's predicted items would change verdict, and the worst misses as thumbnails that open their items.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ItemRow, Model, ModelHeldOut } from '@kensa/sdk';
import { itemHref, navigate, useApp } from '../app-context.tsx';
import { formatScore } from '../components/charts.tsx';
import { CurveChart } from '../components/curve-chart.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { formatPercent, useI18n } from '../i18n/i18n.tsx';
import { confusionAt, flipsBetween, prCurve, rocCurve, sharedImages, worstMisses } from '../lib/evaluation.ts';
import { modelThreshold } from '../lib/scores.ts';
import { useAction, useLoad } from '../lib/use-load.ts';

type HeldOutImage = ModelHeldOut['held_out'][number];

export function EvaluatePage(props: { modelId: string | null; compareId: string | null }) {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const models = useLoad(() => sdk.getModels({ target: app.target }), [app.session, app.target]);
  // The line's predicted items with each model's score: what a new threshold would change in production.
  const rows = useLoad(async () => {
    const all: ItemRow[] = [];
    let cursor: string | undefined;
    do {
      const page = await sdk.getItemRows({ target: app.target, limit: 10_000, cursor });
      all.push(...page.rows.filter((row) => row.tab === 'predict'));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return all;
  }, [app.session, app.target]);
  const trained = (models.data ?? []).filter((m) => m.status === 'active');
  const chosen = trained.find((m) => String(m.model_id) === props.modelId) ?? trained.find((m) => m.active) ?? trained[0];
  const other = trained.find((m) => String(m.model_id) === props.compareId && m !== chosen);
  const evaluations = useLoad(async () => Promise.all([chosen, other].filter((m): m is Model => !!m).map((m) => sdk.getModelEvaluation(m.model_id))),
    [app.session, chosen?.model_id, other?.model_id]);
  const go = (model: string, compare: string | undefined) =>
    navigate(app.href(`#/evaluate?model=${encodeURIComponent(model)}${compare ? `&compare=${encodeURIComponent(compare)}` : ''}`));

  const [first, second] = evaluations.data ?? [];
  // Two models are compared on the images both held out, so that their numbers speak of the same items.
  const [firstImages, secondImages] = first && second ? sharedImages(first.held_out, second.held_out) : [first?.held_out ?? [], []];

  return (
    <div class="page evaluate-page">
      <div class="page-head">
        <h1>{t('evaluateTitle')}</h1>
      </div>
      <p class="muted">{t('evaluateIntro')}</p>
      <ErrorNotice error={models.error ?? evaluations.error} />
      {models.data && trained.length === 0 && <p class="empty">{t('noModels')}</p>}
      {chosen && (
        <div class="filter-bar">
          <label class="field field-inline">
            <span>{t('model')}</span>
            <select value={String(chosen.model_id)} data-testid="evaluate-model" onChange={(e) => go(e.currentTarget.value, other ? String(other.model_id) : undefined)}>
              {trained.map((m) => <option key={String(m.model_id)} value={String(m.model_id)}>{m.name} ({m.version})</option>)}
            </select>
          </label>
          <label class="field field-inline">
            <span>{t('evaluateCompareWith')}</span>
            <select value={other ? String(other.model_id) : ''} data-testid="evaluate-compare" onChange={(e) => go(String(chosen.model_id), e.currentTarget.value || undefined)}>
              <option value="">{t('evaluateNoComparison')}</option>
              {trained.filter((m) => m !== chosen).map((m) => <option key={String(m.model_id)} value={String(m.model_id)}>{m.name} ({m.version})</option>)}
            </select>
          </label>
        </div>
      )}
      {first && second && <p class="small muted" data-testid="shared-images">{t('evaluateShared', { count: firstImages.length })}</p>}
      <div class={second ? 'evaluate-columns' : ''}>
        {first && chosen && <ModelEvaluation model={chosen} evaluation={first} images={firstImages} predicted={rows.data ?? []} onChanged={() => void models.reload(true)} />}
        {second && other && <ModelEvaluation model={other} evaluation={second} images={secondImages} predicted={rows.data ?? []} onChanged={() => void models.reload(true)} />}
      </div>
    </div>
  );
}

function ModelEvaluation(props: { model: Model; evaluation: ModelHeldOut; images: HeldOutImage[]; predicted: ItemRow[]; onChanged: () => void }) {
  const { t } = useI18n();
  const app = useApp();
  const applying = useAction();
  const thresholdParameter = props.model.parameters?.find((p) => p.name === 'threshold');
  const current = modelThreshold(props.model) ?? props.evaluation.threshold ?? 0;
  const [threshold, setThreshold] = useState(current);
  useEffect(() => setThreshold(current), [current]);
  const images = props.images;
  const roc = useMemo(() => rocCurve(images), [images]);
  const pr = useMemo(() => prCurve(images), [images]);
  const confusion = confusionAt(images, threshold);
  const scores = images.map((i) => i.score);
  const low = Math.min(0, ...scores);
  const high = Math.max(current * 2, ...scores);
  // The line's predicted items this model scored, as they stand and as they would under the slider's threshold.
  const modelId = Number(props.model.model_id);
  const predicted = useMemo(() => props.predicted.flatMap((row) => {
    const result = row.results.find((r) => r.model_id === modelId);
    return result ? [{ row, score: result.score }] : [];
  }), [props.predicted, modelId]);
  const heldOutFlips = flipsBetween(images, current, threshold);
  const itemFlips = flipsBetween(predicted, current, threshold);
  const misses = worstMisses(images, threshold);
  const rocAt = roc ? { x: confusion.fp / Math.max(1, confusion.fp + confusion.tn), y: confusion.tp / Math.max(1, confusion.tp + confusion.fn), threshold } : null;
  const prAt = pr && confusion.precision !== null && confusion.recall !== null ? { x: confusion.recall, y: confusion.precision, threshold } : null;
  const thumb = (image: HeldOutImage) => props.evaluation.thumbnail_url.replace('{image_id}', String(image.image_id));
  const id = String(props.model.model_id);

  return (
    <section class="panel model-evaluation" data-testid="model-evaluation" data-model-id={id} aria-labelledby={`evaluation-${id}`}>
      <h2 id={`evaluation-${id}`}>{props.model.name} <span class="muted small">{props.model.version}</span></h2>
      {images.length === 0 ? (
        <p class="muted">{t('evaluateNoHeldOut')}</p>
      ) : (
        <>
          <p class="small">
            {t('evaluateHeldOut', { ok: images.filter((i) => i.good).length, ng: images.filter((i) => !i.good).length })}
            {roc && <> · AUROC <strong data-testid="auroc">{roc.auc.toFixed(3)}</strong></>}
          </p>
          <div class="curves">
            {roc && <CurveChart points={roc.points} at={rocAt} diagonal label={t('rocCurve')} xLabel={t('falsePositiveRate')} yLabel={t('truePositiveRate')} testId="roc-curve" />}
            {pr && <CurveChart points={pr} at={prAt} label={t('prCurve')} xLabel={t('recall')} yLabel={t('precision')} testId="pr-curve" />}
            {!roc && <p class="small muted">{t('evaluateNoNg')}</p>}
          </div>
          <label class="field">
            <span>{t('thresholdSlider', { value: formatScore(threshold) })}{threshold !== current && <span class="muted small"> ({t('thresholdNow', { value: formatScore(current) })})</span>}</span>
            <input type="range" min={low} max={high} step={(high - low) / 500 || 0.001} value={threshold} data-testid="threshold-slider"
              aria-valuetext={formatScore(threshold)} onInput={(e) => setThreshold(Number(e.currentTarget.value))} />
          </label>
          <table class="table compact confusion" data-testid="confusion-matrix">
            <caption class="small muted">{t('confusionCaption', { value: formatScore(threshold) })}</caption>
            <thead><tr><th /><th>{t('calledNg')}</th><th>{t('calledOk')}</th></tr></thead>
            <tbody>
              <tr><th>{t('labelDefect')}</th><td class="num" data-cell="tp">{confusion.tp}</td><td class="num miss" data-cell="fn">{confusion.fn}</td></tr>
              <tr><th>{t('labelGood')}</th><td class="num miss" data-cell="fp">{confusion.fp}</td><td class="num" data-cell="tn">{confusion.tn}</td></tr>
            </tbody>
          </table>
          <p class="small">{t('precision')} {formatPercent(confusion.precision)} · {t('recall')} {formatPercent(confusion.recall)}</p>
          <div class="flips" aria-live="polite" data-testid="threshold-flips">
            {threshold === current ? (
              <p class="small muted">{t('flipsNone')}</p>
            ) : (
              <>
                <p class="small">{t('flipsHeldOut', { ng: heldOutFlips.toNg.length, ok: heldOutFlips.toOk.length })}</p>
                <p class="small">{t('flipsItems', { ng: itemFlips.toNg.length, ok: itemFlips.toOk.length })}</p>
                {thresholdParameter && (
                  // Prediction settings without retraining (PATCH /models/{id}): the next predictions use it.
                  <p>
                    <button type="button" disabled={applying.busy} data-testid="apply-threshold"
                      onClick={() => void applying.run(async () => {
                        await app.session.updatePredictionParameters(props.model.model_id, [{ algorithm_parameter_id: thresholdParameter.algorithm_parameter_id, value: String(threshold) }]);
                        props.onChanged();
                      })}>
                      {t('thresholdApply', { value: formatScore(threshold) })}
                    </button>
                  </p>
                )}
                <ErrorNotice error={applying.error} />
                {itemFlips.toNg.length + itemFlips.toOk.length > 0 && (
                  <ul class="flip-list small">
                    {[...itemFlips.toNg.map((f) => ({ ...f, to: 'NG' })), ...itemFlips.toOk.map((f) => ({ ...f, to: 'OK' }))].slice(0, 50).map((f) => (
                      <li key={f.row.item_id}>
                        <a href={itemHref(f.row.item_id, f.row.target_id)}>{f.row.item_id}</a> → {f.to} <span class="muted">({formatScore(f.score)})</span>
                      </li>
                    ))}
                  </ul>
                )}
              </>
            )}
          </div>
          {(['falseAlarms', 'escapes'] as const).map((kind) => misses[kind].length > 0 && (
            <div key={kind} class="misses">
              <h3>{kind === 'falseAlarms' ? t('worstFalseAlarms') : t('worstEscapes')}</h3>
              <ul class="miss-grid" data-testid={`misses-${kind}`}>
                {misses[kind].map((image) => (
                  <li key={`${image.image_id}-${image.score}`}>
                    {image.item_id ? (
                      <a href={itemHref(image.item_id, app.target)} title={image.item_id}>
                        <img class="thumb" src={thumb(image)} alt={image.item_id} loading="lazy" />
                        <span class="small">{formatScore(image.score)}</span>
                      </a>
                    ) : <span class="small muted">{formatScore(image.score)}</span>}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </section>
  );
}
