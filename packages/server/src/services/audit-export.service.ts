import type { AuditRow } from '@kensa/sdk';
import { ApiError, message } from '../http/errors.ts';
import type { Language } from '../i18n/index.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import type { TargetsService } from './targets.service.ts';
import { targetName } from './targets.wire.ts';

/**
 * One prediction of one item by one model, as a QA department files it: the SDK's type, one definition for both
 * sides (imported for its type only, so the server does not depend on the SDK when it runs).
 */
export type { AuditRow };

export const AUDIT_COLUMNS: (keyof AuditRow)[] = [
  'finished_at', 'item_id', 'product_line', 'model_id', 'model_name', 'model_version', 'algorithm', 'threshold', 'score', 'verdict', 'review', 'final_verdict',
];

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The day after a `YYYY-MM-DD` (UTC), so that a range includes its last day whole. */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/**
 * The audit trail of a product line: every prediction finished in a date range (UTC days, both included) with the
 * model and version that made it, its threshold and score, and the reviewer's decision on the item.
 */
export class AuditExportService {
  constructor(private readonly items: ItemsRepository, private readonly targets: TargetsService) {}

  async predictions(clientId: string, query: { target?: string; from: string; to: string }, language: Language): Promise<{ productLine: string; rows: AuditRow[] }> {
    if (!DAY.test(query.from) || !DAY.test(query.to) || Number.isNaN(Date.parse(query.from)) || Number.isNaN(Date.parse(query.to))) {
      throw new ApiError(400, 'invalidRequest', message('fieldPattern', { field: 'from, to' }));
    }
    if (query.from > query.to) throw new ApiError(400, 'invalidRequest', message('auditRangeInverted'));
    const target = await this.targets.resolve(clientId, query.target);
    const productLine = targetName(target, language);
    const rows = await this.items.predictionsOfTarget(clientId, target.target_id, query.from, nextDay(query.to));
    return {
      productLine,
      rows: rows.map((row) => {
        const verdict = row.good === 1 ? 'OK' : 'NG';
        const overridden = row.override_good !== null && (row.override_good === 1 ? 'OK' : 'NG') !== verdict;
        return {
          finished_at: row.finished_date, item_id: row.item_id, product_line: productLine, model_id: row.model_id,
          model_name: row.model_name, model_version: row.model_version, algorithm: row.algorithm_id, threshold: row.threshold, score: row.score,
          verdict, review: row.confirmed !== 1 ? 'none' : overridden ? 'overridden' : 'confirmed',
          final_verdict: overridden ? (verdict === 'OK' ? 'NG' : 'OK') : verdict,
        };
      }),
    };
  }
}

/**
 * A CSV cell (RFC 4180): quoted when it holds a quote, comma or line break. Text that a spreadsheet would run as a
 * formula (starting with = + - @, a tab or a carriage return) is prefixed with an apostrophe first; numbers stay numbers.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** The rows as CSV with a header, CRLF line ends and a byte-order mark, so that Excel reads Japanese names right. */
export function toCsv(rows: readonly AuditRow[]): string {
  const lines = [AUDIT_COLUMNS.join(','), ...rows.map((row) => AUDIT_COLUMNS.map((column) => csvCell(row[column])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
