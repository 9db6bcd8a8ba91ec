import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ImageDecodeError, probeImage, renderThumbnail, DEFAULT_MAX_PIXELS, type ImageInfo } from '@kensa/engine';
import type { AnnotationInput } from '@kensa/sdk';
import { ApiError, message } from '../http/errors.ts';
import type { Message } from '../i18n/index.ts';
import { pathSegment, type FileStore } from '../store/files.ts';
import type { AnnotationRow, AssessmentRow, ImageRow, ItemRow, ItemsRepository, SummaryCounts } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';
import type { TargetRow } from '../store/targets.repository.ts';
import { itemVerdict } from './item-verdict.ts';
import type { TargetsService } from './targets.service.ts';

/** A file of an upload, already streamed to a temporary file. */
export interface UploadedFile {
  fileName: string;
  temporaryPath: string;
}

export interface UploadOptions {
  training: boolean;
  good: boolean | null;
  /** All files into this one item (beyond the original), instead of one item per file name. */
  itemId: string | null;
  /** The target new items belong to (beyond the original); existing items must already be in it. */
  targetId: number;
}

// Boxes a client sends are the SDK's type, so that the two cannot drift apart. A type-only import: erased at run
// time, so the server does not depend on the SDK package (the SDK never imports the server).
export type { AnnotationInput };

export interface ListQuery {
  /** A target id or name; absent: the default target. */
  target?: string;
  status?: 'pending' | 'done';
  limit?: number;
  cursor?: string;
}

/** A file that passed the checks, with what the checks learned. */
export interface CheckedFile {
  file: UploadedFile;
  itemId: string;
  bytes: Buffer;
  /** Null when not asked for (inspections). */
  thumbnail: Buffer | null;
  info: ImageInfo;
}

/** A page of a target's items with what GET /items shows of each (items.wire.ts shapes the answer). */
export interface ItemPage {
  target: TargetRow;
  items: ListedItem[];
  counts: SummaryCounts;
  /** The `cursor` of the next page; null on the last. */
  nextCursor: string | null;
}

export interface ListedItem {
  item: ItemRow;
  firstImageId: number | undefined;
  assessments: AssessmentRow[];
}

/** An item with its images (each with its boxes and newest assessment) and every model's assessments. */
export interface ItemDetail {
  item: ItemRow;
  images: { image: ImageRow; newest: AssessmentRow | null; annotations: AnnotationRow[] }[];
  assessments: AssessmentRow[];
  /** Algorithm of each of the client's models, by model id. */
  algorithmOf: Map<number, string>;
}

const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
const EXTENSIONS: Record<string, string> = { png: 'png', jpeg: 'jpg', tiff: 'tif', bmp: 'bmp', webp: 'webp' };

/** Longest item id: every id upload accepts must also fit GET/PATCH/DELETE /item/{id} (see app.ts). */
export const MAX_ITEM_ID_LENGTH = 255;

/** An item id from a file name: the name without its extension; the reason when the name is not allowed. */
export function itemIdOf(fileName: string): { itemId: string } | { reason: Message } {
  if (!NAME_PATTERN.test(fileName) || fileName.startsWith('.')) return { reason: message('reasonBadName') };
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return { reason: message('reasonNoExtension') };
  if (dot > MAX_ITEM_ID_LENGTH) return { reason: message('reasonIdTooLong', { max: MAX_ITEM_ID_LENGTH }) };
  return { itemId: fileName.slice(0, dot) };
}

export function reasonOf(error: unknown, maxPixels: number): Message {
  if (error instanceof ImageDecodeError) {
    switch (error.code) {
      case 'empty': return message('reasonEmpty');
      case 'unsupported': return message('reasonUnsupported');
      case 'truncated': return message('reasonTruncated');
      case 'too_large': {
        const pixels = /(\d+)×(\d+)/.exec(error.message);
        const megapixels = pixels ? (Number(pixels[1]) * Number(pixels[2]) / 1e6).toFixed(1) : '?';
        return message('reasonTooManyPixels', { megapixels, limit: `${Math.round(maxPixels / 1e6)} MP` });
      }
      default: return message('reasonCorrupt');
    }
  }
  const text = error instanceof Error ? error.message : String(error);
  return /premature end|truncated|unexpected end/i.test(text) ? message('reasonTruncated') : message('reasonCorrupt');
}

export class ItemsService {
  constructor(
    private readonly items: ItemsRepository,
    private readonly models: ModelsRepository,
    private readonly files: FileStore,
    private readonly targets: TargetsService,
    private readonly maxPixels = DEFAULT_MAX_PIXELS,
  ) {}

  /**
   * Checks every file by name and content (decoded once: size, EXIF, and a thumbnail, which also finds
   * truncated data); throws one 400 naming every refused file, or returns them all ready to store.
   */
  async checkFiles(files: UploadedFile[], itemIdOverride: string | null, options: { thumbnails: boolean } = { thumbnails: true }): Promise<CheckedFile[]> {
    if (files.length === 0) throw new ApiError(400, 'noImagesToUpload');
    if (itemIdOverride !== null) {
      const checked = itemIdOf(`${itemIdOverride}.x`);
      if ('reason' in checked) throw new ApiError(400, 'invalidRequest', message('invalidFilenameBecause', { name: itemIdOverride, reason: checked.reason }));
    }
    const problems: Message[] = [];
    const accepted: CheckedFile[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      const parsed = itemIdOf(file.fileName);
      if ('reason' in parsed) {
        problems.push(message('invalidFilenameBecause', { name: file.fileName, reason: parsed.reason }));
        continue;
      }
      const itemId = itemIdOverride ?? parsed.itemId;
      const key = itemIdOverride ? file.fileName : itemId;
      if (seen.has(key)) {
        problems.push(message('invalidFilenameBecause', { name: file.fileName, reason: message('reasonDuplicateName') }));
        continue;
      }
      seen.add(key);
      const bytes = await readFile(file.temporaryPath);
      try {
        const info = await probeImage(bytes, { maxPixels: this.maxPixels });
        // Without a thumbnail (a synchronous inspection stores nothing), only the header is read here: the
        // worker's decode finds what is broken further in, and the inspection refuses that file the same way.
        const thumbnail = options.thumbnails ? await renderThumbnail(bytes) : null;
        accepted.push({ file, itemId, bytes, thumbnail, info });
      } catch (error) {
        problems.push(message('invalidFilenameBecause', { name: file.fileName, reason: reasonOf(error, this.maxPixels) }));
      }
    }
    if (problems.length > 0) throw new ApiError(400, 'invalidRequest', problems);
    return accepted;
  }

  /**
   * Stores uploaded images: every file is checked by name and content (decoded once for size, EXIF and
   * a thumbnail) before anything is kept, so a refused upload changes nothing.
   */
  async upload(clientId: string, files: UploadedFile[], options: UploadOptions): Promise<string[]> {
    const accepted = await this.checkFiles(files, options.itemId);
    const itemIds: string[] = [];
    const written: string[] = [];
    try {
      const plans: { entry: CheckedFile; sha256: string; rawPath: string; thumbnailPath: string }[] = [];
      for (const entry of accepted) {
        const sha256 = createHash('sha256').update(entry.bytes).digest('hex');
        const folder = `images/${pathSegment(clientId)}/${pathSegment(entry.itemId)}`;
        const rawPath = `${folder}/${sha256}.${EXTENSIONS[entry.info.format]}`;
        const thumbnailPath = `${folder}/${sha256}.thumb.jpg`;
        plans.push({ entry, sha256, rawPath, thumbnailPath });
      }
      // Files first (atomic renames), then all rows in one transaction.
      for (const plan of plans) {
        await this.files.write(plan.thumbnailPath, plan.entry.thumbnail!);
        written.push(plan.thumbnailPath);
        await this.files.adopt(plan.entry.file.temporaryPath, plan.rawPath);
        written.push(plan.rawPath);
      }
      await this.items.transaction(async () => {
        for (const plan of plans) {
          let item = await this.items.findItem(clientId, plan.entry.itemId);
          // Item ids are unique per client, so the routes without a target keep naming one item.
          if (item && item.target_id !== options.targetId) {
            throw new ApiError(400, 'invalidRequest', message('itemInAnotherTarget', { id: plan.entry.itemId }));
          }
          // An existing item keeps its labels (a review changes them), so uploading more images never relabels.
          if (!item) item = await this.items.insertItem(clientId, options.targetId, plan.entry.itemId, options.training, options.good);
          const existing = (await this.items.imagesOfItem(item.pk)).find((image) => image.sha256 === plan.sha256);
          if (!existing) {
            await this.items.insertImage(item.pk, {
              client_id: clientId, file_name: plan.entry.file.fileName, content_type: plan.entry.info.contentType,
              file_size: plan.entry.bytes.length, width: plan.entry.info.width, height: plan.entry.info.height, sha256: plan.sha256,
              raw_path: plan.rawPath, thumbnail_path: plan.thumbnailPath, exif: plan.entry.info.exif,
            });
          }
          if (!itemIds.includes(plan.entry.itemId)) itemIds.push(plan.entry.itemId);
        }
      });
    } catch (error) {
      // Files of images that already existed are the same bytes at the same path: keep those.
      for (const path of written) if (!await this.items.isImagePath(clientId, path)) await this.files.remove(path);
      throw error;
    }
    return itemIds;
  }

  /**
   * GET /items: training, predict and archived items of a target (default: the default target) with a
   * summary of all of them. Beyond the original: `status` keeps only pending or done items; `limit` pages
   * through the items in upload order, and `next_cursor` (null on the last page) is the `cursor` of the next
   * page. Pages, their images and assessments, and the summary's counts are read by indexed queries.
   */
  async list(clientId: string, query: ListQuery = {}): Promise<ItemPage> {
    const target = await this.targets.resolve(clientId, query.target);
    const after = query.cursor && /^\d+$/.test(query.cursor) ? Number(query.cursor) : 0;
    // One row more than the page tells whether another page follows.
    let page = await this.items.pageOfItems(clientId, target.target_id, { status: query.status, after, limit: query.limit === undefined ? null : query.limit + 1 });
    let nextCursor: string | null = null;
    if (query.limit !== undefined && page.length > query.limit) {
      page = page.slice(0, query.limit);
      nextCursor = String(page[page.length - 1].pk);
    }
    const pks = page.map((i) => i.pk);
    const firstImages = await this.items.firstImageIdsOf(clientId, pks);
    const assessments = await this.items.assessmentsOfItems(pks);
    return {
      target,
      items: page.map((item) => ({ item, firstImageId: firstImages.get(item.pk), assessments: assessments.get(item.pk) ?? [] })),
      counts: await this.items.summaryCounts(clientId, target.target_id),
      nextCursor,
    };
  }

  /** GET /item/{id}: the item with its images, annotations and every model's assessments. */
  async detail(clientId: string, itemId: string): Promise<ItemDetail> {
    const item = await this.findOwnItem(clientId, itemId);
    const assessments = await this.items.assessmentsOfItem(item.pk);
    const images: ItemDetail['images'] = [];
    for (const image of await this.items.imagesOfItem(item.pk)) {
      const newest = await this.items.newestAssessmentOfImage(image.image_id);
      images.push({ image, newest: newest ?? null, annotations: await this.items.annotationsOfImage(image.image_id) });
    }
    const algorithmOf = new Map((await this.models.list(clientId)).map((m) => [m.model_id, m.algorithm_id]));
    return { item, images, assessments, algorithmOf };
  }

  /**
   * PATCH /item/{id} (beyond): a person's verdict. On a predicted item it confirms the computed verdict
   * (same `good`) or overrides it; on a training item it sets the label.
   */
  async review(clientId: string, itemId: string, change: { good?: boolean; archived?: boolean }): Promise<ItemDetail> {
    const item = await this.findOwnItem(clientId, itemId);
    await this.items.transaction(async () => {
      if (change.archived !== undefined) await this.items.setArchived([item.pk], change.archived);
      if (change.good === undefined) return;
      if (item.is_training) {
        await this.items.updateItemLabel(item.pk, true, change.good);
        await this.items.setReviews([item.pk], null);
      } else {
        const { computedGood } = itemVerdict(item, await this.items.assessmentsOfItem(item.pk));
        await this.items.setReviews([item.pk], computedGood === change.good ? null : change.good);
      }
    });
    return this.detail(clientId, itemId);
  }

  /** DELETE /item/{id} (beyond): the item, its images, annotations, results and files. */
  async remove(clientId: string, itemId: string): Promise<void> {
    const item = await this.findOwnItem(clientId, itemId);
    const paths = (await this.items.imagesOfItem(item.pk)).flatMap((image) => [image.raw_path, image.thumbnail_path]);
    paths.push(...(await this.items.assessmentsOfItem(item.pk)).flatMap((a) => [a.overlay_path, a.heatmap_path]));
    await this.items.deleteItem(item.pk);
    for (const path of paths) await this.files.remove(path);
  }

  private async findOwnItem(clientId: string, itemId: string): Promise<ItemRow> {
    const item = await this.items.findItem(clientId, itemId);
    if (!item) {
      if (await this.items.existsForAnotherClient(clientId, itemId)) throw new ApiError(401, 'itemOfAnotherClient');
      throw new ApiError(404, 'itemNotFound');
    }
    return item;
  }

  /**
   * POST /image/{id}/annotation: replaces that image's boxes after checking each one. Coordinates are rounded
   * to whole pixels first (the original's clients read them as integers). An unknown image is a 400, as the original.
   */
  async annotate(clientId: string, imageId: number, annotations: AnnotationInput[]): Promise<void> {
    const image = Number.isSafeInteger(imageId) ? await this.items.findImage(clientId, imageId) : undefined;
    if (!image) throw new ApiError(400, 'imageNotFound');
    const boxes = annotations.map((a) => ({
      x_min: Math.round(a.x_min), x_max: Math.round(a.x_max), y_min: Math.round(a.y_min), y_max: Math.round(a.y_max), notes: a.notes ?? null,
    }));
    const problems: Message[] = [];
    boxes.forEach((a, index) => {
      if (a.x_min > a.x_max) problems.push(message('annotationInverted', { index, axis: 'x' }));
      if (a.y_min > a.y_max) problems.push(message('annotationInverted', { index, axis: 'y' }));
      if (a.x_min < 0 || a.y_min < 0 || a.x_max > image.width || a.y_max > image.height) {
        problems.push(message('annotationOutside', { index, width: image.width, height: image.height }));
      }
    });
    if (problems.length > 0) throw new ApiError(400, 'invalidAnnotation', problems);
    await this.items.replaceAnnotations(image.image_id, boxes);
  }

  /** The stored file behind an image URL, scoped to the client; 404 otherwise. */
  async imageFile(clientId: string, imageId: number, kind: 'raw' | 'thumbnail' | 'overlay' | 'heatmap', modelId: number | null): Promise<{ key: string; contentType: string }> {
    const image = Number.isSafeInteger(imageId) ? await this.items.findImage(clientId, imageId) : undefined;
    if (!image) throw new ApiError(404, 'imageNotFound');
    if (kind === 'raw') return { key: image.raw_path, contentType: image.content_type };
    if (kind === 'thumbnail') return { key: image.thumbnail_path, contentType: 'image/jpeg' };
    const assessment = modelId !== null ? await this.items.findAssessment(image.image_id, modelId) : await this.items.newestAssessmentOfImage(image.image_id);
    if (!assessment) throw new ApiError(404, 'imageNotFound');
    return { key: kind === 'overlay' ? assessment.overlay_path : assessment.heatmap_path, contentType: 'image/png' };
  }
}
