/**
 * How a model leaves on the wire: a pure function from its row and a few facts read beside it. It keeps the
 * original service's key paths (its C# SDK reads `context_id`, `image_url`, `precision`, `recall`; see
 * docs/api.md "Fields kept for the original's clients"), Kensa's own fields alongside.
 */
import { findAlgorithm, formatParamValue } from '@kensa/engine';
import { render, type Language, type Message } from '../i18n/index.ts';
import type { TrainOutput } from '../jobs/protocol.ts';
import type { ModelRow } from '../store/models.repository.ts';
import type { UrlBuilder } from '../http/urls.ts';

export interface ModelFacts {
  /** Predictions a person confirmed: what the model computed and what stood. */
  outcomes: { computedGood: boolean; finalGood: boolean }[];
  /** The first image the model learnt from (its `image_url`), if any. */
  firstImageId: number | null;
  /** Whether it is the model its target serves once every training has finished: the newest that has not failed. */
  targetsDefault: boolean;
}

export function presentModel(model: ModelRow, facts: ModelFacts, language: Language, urls: UrlBuilder | null) {
  const algorithm = findAlgorithm(model.algorithm_id);
  const values = { ...JSON.parse(model.parameters_json) as Record<string, unknown>, ...JSON.parse(model.prediction_overrides_json) as Record<string, unknown> };
  const evaluation = model.evaluation_json
    ? JSON.parse(model.evaluation_json) as TrainOutput['evaluation'] & { autoTuned?: TrainOutput['autoTuned'] }
    : null;
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
    status_text: model.status_json ? render(language, JSON.parse(model.status_json) as Message) : null,
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
