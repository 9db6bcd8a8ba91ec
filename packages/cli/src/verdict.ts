import type { Assessment, ItemDetail } from '@kensa/sdk';

export interface ItemVerdict {
  item_id: string;
  /** `OK`, `NG`, or null while the item has no prediction or its last prediction failed. */
  verdict: 'OK' | 'NG' | null;
  /** Why the last prediction failed (the server keeps no verdict then); null otherwise. */
  error: string | null;
  detected_objects: number | null;
  /** The highest image score of the newest prediction. */
  score: number | null;
  model_id: number | string | null;
  images: { image_id: number | string; file_name: string; verdict: 'OK' | 'NG' | null; score: number | null; boxes: Assessment['annotations'] }[];
}

const newest = (a: Assessment) => Date.parse(a.finished_date ?? a.created_at) || 0;

/** The verdict of an item's newest prediction, per item and per image, from its detail. */
export function verdictOf(detail: ItemDetail): ItemVerdict {
  // The model whose assessments finished last made the newest prediction, which `computed_assessment` shows.
  const results = (detail.models ?? []).filter((m) => (m.assessments ?? []).length > 0);
  results.sort((a, b) => Math.max(...b.assessments.map(newest)) - Math.max(...a.assessments.map(newest)));
  const latest = results[0];
  const byImage = new Map((latest?.assessments ?? []).map((a) => [String(a.image_id), a]));
  const images = (detail.images ?? []).map((image) => {
    const assessment = byImage.get(String(image.image_id));
    const result = assessment?.final ?? assessment?.computed;
    return {
      image_id: image.image_id,
      file_name: image.file_name,
      verdict: result ? (result.result === 'good' ? 'OK' as const : 'NG' as const) : null,
      score: result?.score ?? null,
      boxes: assessment?.annotations ?? [],
    };
  });
  const good = detail.computed_assessment?.good;
  const scores = images.map((i) => i.score).filter((s): s is number => s !== null);
  const error = typeof detail.prediction_error === 'string' ? detail.prediction_error : null;
  if (error !== null) {
    // An earlier model's results may still be listed; they are not this prediction's verdict.
    return { item_id: detail.item_id, verdict: null, error, detected_objects: null, score: null, model_id: null, images: images.map((i) => ({ ...i, verdict: null, score: null, boxes: [] })) };
  }
  return {
    item_id: detail.item_id,
    error: null,
    verdict: good === true ? 'OK' : good === false ? 'NG' : latest ? latest.aggregate.label : null,
    detected_objects: detail.computed_assessment?.detected_objects ?? latest?.aggregate.detected_objects ?? null,
    score: scores.length ? Math.max(...scores) : null,
    model_id: latest?.model_id ?? null,
    images,
  };
}
