// Scores live in item details (one assessment per image and model), not in the item list: the dashboard and the
// review queue fetch the details of the predicted items, a few at a time and up to a limit.
import type { Item, ItemDetail, Model, VisualInspectionSDK } from '@kensa/sdk';

export interface ScoredItem {
  item: Item;
  score: number;
  label: 'OK' | 'NG';
  confirmed: boolean;
}

/** An item's score under a model: the highest of its images (the item is NG when any image is). */
export function itemScore(detail: ItemDetail, modelId: unknown): { score: number; label: 'OK' | 'NG' } | null {
  const result = detail.models?.find((m) => String(m.model_id) === String(modelId));
  if (!result) return null;
  const scores = (result.assessments ?? [])
    .map((a) => (a.final ?? a.computed)?.score)
    .filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
  if (scores.length === 0) return null;
  const label = detail.confirmed_assessment && typeof detail.good === 'boolean' ? (detail.good ? 'OK' : 'NG') : result.aggregate.label === 'NG' ? 'NG' : 'OK';
  return { score: Math.max(...scores), label };
}

export async function loadScores(
  sdk: VisualInspectionSDK,
  items: readonly Item[],
  modelId: unknown,
  limit = 300,
  concurrency = 4,
): Promise<ScoredItem[]> {
  const predicted = items.filter((i) => i.status === 'done' && (i.models ?? []).some((m) => String(m.model_id) === String(modelId))).slice(0, limit);
  const out: ScoredItem[] = [];
  const skipped: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < predicted.length) {
      const item = predicted[next++];
      try {
        const detail = await sdk.getItem(item.item_id, { showAssessments: true });
        const scored = itemScore(detail, modelId);
        if (scored) out.push({ item, ...scored, confirmed: !!detail.confirmed_assessment });
      } catch {
        // One unreadable item (deleted meanwhile, refused) must not hide the others' scores.
        skipped.push(item.item_id);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (skipped.length) console.warn(`Scores left out for ${skipped.length} item(s) whose details could not be read:`, skipped.slice(0, 5));
  return out;
}

/** The model's anomaly threshold: one a person fixed in its parameters, else the one training chose. */
export function modelThreshold(model: Model | null | undefined): number | null {
  const number = (raw: unknown) => {
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  };
  const parameters = model?.parameters as Record<string, unknown> | { name?: string; value?: unknown }[] | undefined;
  const fixed = Array.isArray(parameters) ? parameters.find((p) => p?.name === 'threshold')?.value : parameters?.threshold;
  return number(fixed) ?? number((model?.evaluation as { threshold?: unknown } | null | undefined)?.threshold);
}

/** The review queue's order: NG first (a missed defect costs most), then the scores nearest the threshold. */
export function reviewOrder(items: readonly ScoredItem[], threshold: number | null): ScoredItem[] {
  const distance = (s: ScoredItem) => (threshold === null ? -s.score : Math.abs(s.score - threshold));
  return [...items].sort((a, b) => (a.label === b.label ? distance(a) - distance(b) : a.label === 'NG' ? -1 : 1));
}
