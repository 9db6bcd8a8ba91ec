/**
 * How items, images, annotations, assessments and the summary leave on the wire: pure functions from rows to
 * answers. They keep the original service's key paths and JSON types (its C# SDK declares them; see
 * docs/api.md "Fields kept for the original's clients"), Kensa's own fields alongside.
 */
import type { ItemRow as ItemRowAnswer, ItemRowResult } from '@kensa/sdk';
import { EXIF_SRGB, exifColorSpaceOf } from '@kensa/engine';
import type { UrlBuilder } from '../http/urls.ts';
import { render, translate, type Language } from '../i18n/index.ts';
import type { AnnotationRow, AssessmentRow, ImageRow, ItemRow, SummaryCounts } from '../store/items.repository.ts';
import type { TargetRow } from '../store/targets.repository.ts';
import { groupBy } from '../util/group-by.ts';
import { itemVerdict, predictionGood } from './item-verdict.ts';
import type { ItemDetail, ItemPage } from './items.service.ts';
import { targetName } from './targets.wire.ts';

/** Item dates as the original wrote them: ISO 8601 with the offset spelled `+00:00` (stored with `Z`). */
export function itemDate(stored: string): string;
export function itemDate(stored: string | null): string | null;
export function itemDate(stored: string | null): string | null {
  return stored === null ? null : stored.replace(/Z$/, '+00:00');
}

const bool = (v: number | null) => (v === null ? null : v === 1);
const labelOf = (good: boolean) => (good ? 'OK' as const : 'NG' as const);
const resultOf = (good: boolean) => (good ? 'good' as const : 'defect' as const);

function aggregateOf(rows: AssessmentRow[]) {
  return { label: labelOf(predictionGood(rows)), detected_objects: rows.reduce((sum, r) => sum + r.detected_objects, 0) };
}

/**
 * The original's `override`: a verdict a person gave (a review of a prediction, or a training item's label
 * from upload or review), else null. Counts are null: a person's verdict counts no boxes.
 */
function overrideOf(item: ItemRow) {
  const good = item.is_training ? bool(item.good) : bool(item.override_good);
  return good === null ? null : { label: labelOf(good), result: resultOf(good), detected_objects: null, detection_accuracy: null };
}

/** A box on the wire: whole pixels (the original's clients read integers). */
function wireBox(box: { x_min: number; x_max: number; y_min: number; y_max: number }) {
  return { x_min: Math.round(box.x_min), x_max: Math.round(box.x_max), y_min: Math.round(box.y_min), y_max: Math.round(box.y_max) };
}

export function presentAnnotation(a: AnnotationRow) {
  return {
    annotation_id: a.annotation_id, image_id: a.image_id, ...wireBox(a), notes: a.notes, created_at: itemDate(a.created_at),
    // Every box a person draws is used by training (supervised algorithms learn from them).
    for_training: true,
  };
}

export function presentAssessment(row: AssessmentRow, item: ItemRow) {
  const computed = {
    label: labelOf(row.good === 1),
    result: resultOf(row.good === 1),
    detected_objects: row.detected_objects,
    detection_accuracy: row.detection_accuracy,
    score: row.score,
  };
  const finalGood = item.override_good !== null ? item.override_good === 1 : row.good === 1;
  return {
    image_id: row.image_id,
    model_id: row.model_id,
    created_at: itemDate(row.created_at),
    finished_date: itemDate(row.finished_date),
    confirmed: item.confirmed === 1,
    computed,
    final: { ...computed, label: labelOf(finalGood), result: resultOf(finalGood) },
    // Detected boxes in the original's annotation shape: no annotation id (0) or notes, never used for training.
    annotations: row.boxes.map((box) => ({
      annotation_id: 0, ...wireBox(box), score: box.score, notes: null, created_at: itemDate(row.created_at), for_training: false,
    })),
  };
}

/** Each model's results of an item; assessments left empty when not asked for. */
function presentModels(item: ItemRow, assessments: AssessmentRow[], withAssessments: boolean) {
  return [...groupBy(assessments, (row) => row.model_id)].map(([model_id, rows]) => ({
    model_id,
    aggregate: aggregateOf(rows),
    assessments: withAssessments ? rows.map((row) => presentAssessment(row, item)) : [],
  }));
}

/** An item as GET /items lists it (every model's assessments included, as the original did). */
export function presentItem(item: ItemRow, firstImageId: number | undefined, assessments: AssessmentRow[], urls: UrlBuilder, language: Language, withAssessments = true) {
  const verdict = itemVerdict(item, assessments);
  const failed = item.prediction_error !== null && !item.is_training;
  return {
    item_id: item.item_id,
    target_id: item.target_id,
    label: item.label,
    description: item.description,
    // The original's items were never inactive; Kensa archives instead (`archived`).
    active: true,
    created_at: itemDate(item.created_at),
    finished_date: itemDate(item.finished_date),
    default_image: firstImageId !== undefined ? urls.image(firstImageId, 'raw') : null,
    thumbnail_image: firstImageId !== undefined ? urls.image(firstImageId, 'thumbnail') : null,
    is_training_data: item.is_training === 1,
    good: item.override_good !== null ? item.override_good === 1 : item.is_training ? bool(item.good) : verdict.computedGood,
    status: item.status,
    prediction_error: item.prediction_error === null ? null : render(language, item.prediction_error),
    detected_objects: failed ? 0 : verdict.newestRows.reduce((sum, r) => sum + r.detected_objects, 0),
    confirmed_assessment: item.confirmed === 1,
    override_assessment: item.override_good !== null,
    override: overrideOf(item),
    models: presentModels(item, assessments, withAssessments),
  };
}

/** The original's EXIF ColorSpace is an integer; images stored before it was read from the EXIF kept a name. */
function wireExif(stored: Record<string, unknown>): Record<string, unknown> {
  const colorSpace = stored.ColorSpace;
  if (typeof colorSpace === 'number') return stored;
  return { ...stored, ColorSpace: typeof colorSpace === 'string' ? exifColorSpaceOf(colorSpace) : EXIF_SRGB };
}

/**
 * An image of an item's detail. `newest`: its newest prediction, if any; `training`: whether the item is for training
 * (ready once uploaded: nothing is predicted for it).
 */
export function presentImage(
  { image, newest, annotations }: { image: ImageRow; newest: AssessmentRow | null; annotations: AnnotationRow[] }, training: boolean,
  urls: UrlBuilder, showAnnotations: boolean,
) {
  const raw = urls.image(image.image_id, 'raw');
  const newestModelId = newest?.model_id ?? null;
  return {
    image_id: image.image_id,
    file_name: image.file_name,
    content_type: image.content_type,
    file_size: image.file_size,
    width: image.width,
    height: image.height,
    created_at: itemDate(image.created_at),
    raw_url: raw,
    url: newestModelId !== null ? urls.result(image.image_id, newestModelId, 'overlay') : raw,
    heatmap_url: newestModelId !== null ? urls.result(image.image_id, newestModelId, 'heatmap') : null,
    thumbnail_url: urls.image(image.image_id, 'thumbnail'),
    processed: training || newestModelId !== null,
    // The marked defects: the image's annotation boxes; the counted ones: what the newest prediction found.
    defects: annotations.length,
    defect_counted: newest?.detected_objects ?? 0,
    exif_metadata: wireExif(image.exif),
    // The original's storage fields: Kensa stores every upload whole, by content (key = SHA-256), in no batch or position.
    key: image.sha256,
    batch_id: '',
    position: '',
    uploaded: true,
    is_raw_uploaded: true,
    annotations: showAnnotations ? annotations.map(presentAnnotation) : [],
  };
}

/** GET /items: the page's items by tab, the summary of the whole target and the next page's cursor. */
export function presentItemPage(page: ItemPage, urls: UrlBuilder, language: Language) {
  const present = ({ item, firstImageId, assessments }: ItemPage['items'][number]) => presentItem(item, firstImageId, assessments, urls, language);
  return {
    training: page.items.filter(({ item }) => !item.archived && item.is_training).map(present),
    predict: page.items.filter(({ item }) => !item.archived && !item.is_training).map(present),
    archived: page.items.filter(({ item }) => item.archived).map(present),
    summary: presentSummary(page.target, page.counts, language),
    next_cursor: page.nextCursor,
  };
}

/** GET /item/{id}: the listed item with its images, both verdicts and every model's assessments. */
export function presentItemDetail(detail: ItemDetail, urls: UrlBuilder, language: Language, show: { annotations: boolean; assessments: boolean }) {
  const { item, assessments, algorithmOf } = detail;
  const images = detail.images.map((entry) => presentImage(entry, item.is_training === 1, urls, show.annotations));
  const base = presentItem(item, images[0]?.image_id, assessments, urls, language, show.assessments);
  const verdict = itemVerdict(item, assessments);
  const newest = verdict.newestModelId;
  return {
    ...base,
    images,
    computed_assessment: {
      assessment_result: newest === null ? null : `[${algorithmOf.get(newest) ?? '?'}] ${translate(language, verdict.computedGood ? 'resultGood' : 'resultDefect')}`,
      detected_objects: newest === null ? null : base.detected_objects,
      detection_accuracy: newest === null ? null : Math.min(...verdict.newestRows.map((r) => r.detection_accuracy)),
      good: verdict.computedGood,
    },
    manual_assessment: {
      good: bool(item.override_good),
      override_assessment: item.override_good !== null,
      confirmed: item.confirmed === 1,
    },
  };
}

/** The summary of GET /items; `accuracy` is the original's integer percentage of confirmed results kept (0 before any). */
export function presentSummary(target: TargetRow, counts: SummaryCounts, language: Language) {
  return {
    title: targetName(target, language),
    training_stats: { OK_count: counts.training.ok, NG_count: counts.training.ng, unlabelled_count: counts.training.unlabelled },
    predict_stats: counts.predictions.map((s) => ({
      model_id: s.model_id, OK_count: s.ok, NG_count: s.ng, done_count: s.done, confirmed_count: s.confirmed,
      adjusted_count: s.adjusted, accuracy: s.confirmed > 0 ? Math.round(((s.confirmed - s.adjusted) / s.confirmed) * 100) : 0,
    })),
  };
}

/**
 * An item as a compact row (GET /items/rows). The row's wire type is the SDK's (`ItemRow`): one definition for both
 * sides, imported for its type only, so the server does not depend on the SDK when it runs.
 */
export function presentItemRow(item: ItemRow, imageId: number | null, results: ItemRowResult[]): ItemRowAnswer {
  const isTraining = item.is_training === 1;
  const failed = !isTraining && item.prediction_error !== null;
  const newest = failed ? undefined : results.at(-1);
  let verdict: ItemRowAnswer['verdict'];
  if (isTraining) verdict = item.good === 1 ? 'good' : item.good === 0 ? 'defect' : 'unlabelled';
  else if (item.status !== 'done') verdict = 'pending';
  else if (item.override_good !== null) verdict = item.override_good === 1 ? 'OK' : 'NG';
  else verdict = newest === undefined ? 'pending' : newest.good ? 'OK' : 'NG';
  return {
    item_id: item.item_id,
    target_id: item.target_id,
    tab: item.archived === 1 ? 'archived' : isTraining ? 'training' : 'predict',
    is_training_data: isTraining,
    verdict,
    status: item.status,
    prediction_failed: failed,
    reviewed: item.confirmed === 1,
    overridden: item.override_good !== null,
    created_at: item.created_at,
    finished_date: item.finished_date,
    image_id: imageId,
    results,
  };
}
