/**
 * How a model leaves on the wire: a pure function from its row and a few facts read beside it (models.service.ts
 * reads them; the routes shape the answer here). It keeps the
 * original service's key paths (its C# SDK reads `context_id`, `image_url`, `precision`, `recall`; see
 * docs/api.md "Fields kept for the original's clients"), Kensa's own fields alongside.
 */
import { findAlgorithm, formatParamValue } from '@kensa/engine';
import { render, type Language } from '../i18n/index.ts';
import type { UrlBuilder } from '../http/urls.ts';
import type { ModelDetail } from './models.service.ts';

/** `urls` null: no `image_url` (an answer that needs none). */
export function presentModel({ model, facts }: ModelDetail, language: Language, urls: UrlBuilder | null) {
  const algorithm = findAlgorithm(model.algorithm_id);
  const values = { ...model.parameters, ...model.prediction_overrides };
  const { evaluation } = model;
  // Computed from confirmed predictions: NG is the positive class, as in training's evaluation.
  const { outcomes } = facts;
  const tp = outcomes.filter((o) => !o.computedGood && !o.finalGood).length;
  const fp = outcomes.filter((o) => !o.computedGood && o.finalGood).length;
  const fn = outcomes.filter((o) => o.computedGood && !o.finalGood).length;
  const projected = { precision: evaluation?.confusion?.precision ?? null, recall: evaluation?.confusion?.recall ?? null };
  return {
    model_id: model.model_id,
    name: model.name,
    algorithm_id: model.algorithm_id,
    algorithm_type: model.algorithm_type,
    target_id: model.target_id,
    // The original's context is Kensa's target.
    context_id: model.target_id,
    image_url: urls !== null && facts.firstImageId !== null ? urls.image(facts.firstImageId, 'thumbnail') : null,
    // Serving now; and the target's designated model, which serves once trained (the original's default of its context).
    active: model.active === 1,
    context_default: facts.targetsDefault,
    status: model.status,
    status_text: model.status_message ? render(language, model.status_message) : null,
    progress: model.progress,
    version: model.version,
    created_at: model.created_at,
    updated_at: model.updated_at,
    ok_img_count: model.ok_img_count,
    ng_img_count: model.ng_img_count,
    parameters: Object.entries(values).map(([name, value]) => ({
      algorithm_parameter_id: algorithm?.parameters.find((p) => p.name === name)?.id ?? null,
      name,
      value: formatParamValue(value as never),
    })),
    stats: {
      precision: { computed: tp + fp > 0 ? tp / (tp + fp) : null, projected: projected.precision },
      recall: { computed: tp + fn > 0 ? tp / (tp + fn) : null, projected: projected.recall },
    },
    // The original's train answer carried these two at the top: the projected rates (null until trained).
    precision: projected.precision,
    recall: projected.recall,
    evaluation: evaluation ? {
      auroc: evaluation.auroc, auroc_source: evaluation.aurocSource, threshold: evaluation.threshold, threshold_reason: evaluation.thresholdReason,
      // Which value AutoTune chose for each parameter left out, and the held-out AUROC of every candidate it tried.
      auto_tuned: Object.fromEntries(Object.entries(evaluation.autoTuned ?? {}).map(([name, tuned]) => [name, {
        chosen: formatParamValue(tuned.chosen as never),
        scores: Object.entries(tuned.scores).map(([candidate, auroc]) => ({ value: formatParamValue(JSON.parse(candidate) as never) /* the engine keys every candidate by its JSON */, auroc })),
      }])),
    } : null,
  };
}
