/**
 * The rule for an item's computed verdict, in one place: lists, details, reviews, the sample project and the
 * finished-prediction events use it (the database's triggers keep the same verdict in `item_verdicts` for counts).
 */
import type { AssessmentRow, ItemRow } from '../store/items.repository.ts';

/** An item's verdict: the model whose prediction finished last, its rows, and what they computed. */
export interface ItemVerdict {
  /** Null before any prediction and after a failed last prediction (earlier results stay listed under models). */
  newestModelId: number | null;
  newestRows: AssessmentRow[];
  /** True when every image of the newest prediction is good; null without one. */
  computedGood: boolean | null;
}

/** The one rule for a prediction's verdict: good when every image of it is (lists, details, reviews, finished-prediction events). */
export function predictionGood(rows: readonly Pick<AssessmentRow, 'good'>[]): boolean {
  return rows.every((row) => row.good === 1);
}

/** The one rule for an item's computed verdict, shared by lists, details and reviews. */
export function itemVerdict(item: ItemRow, assessments: AssessmentRow[]): ItemVerdict {
  const failed = item.prediction_error !== null && !item.is_training;
  const newest = failed ? null : newestModelOf(assessments);
  const newestRows = newest === null ? [] : assessments.filter((row) => row.model_id === newest);
  return { newestModelId: newest, newestRows, computedGood: newest === null ? null : predictionGood(newestRows) };
}

/** The model whose prediction of this item finished last. */
function newestModelOf(rows: AssessmentRow[]): number | null {
  let newest: AssessmentRow | null = null;
  for (const row of rows) {
    if (!newest || row.finished_date > newest.finished_date || (row.finished_date === newest.finished_date && row.model_id > newest.model_id)) newest = row;
  }
  return newest ? newest.model_id : null;
}
