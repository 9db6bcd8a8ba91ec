// A grid of thousands of items that draws only the rows in view (plus a few), so that scrolling 10,000 items costs
// what scrolling 50 does. Selection as a file manager does it: click the box, shift-click a range; on the keyboard
// arrows / Page / Home / End move, Space toggles, Shift+move extends, Ctrl+A selects all shown, Escape clears,
// Enter opens. For screen readers it is an ARIA grid that is multi-selectable, with row and cell positions.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ItemRow } from '@kensa/sdk';
import { itemHref, navigate } from '../app-context.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import { moveFocus, rangeIds, resultOf, verdictUnder, visibleWindow } from '../lib/item-rows.ts';
import type { RowFilter } from '../lib/item-rows.ts';
import { formatScore } from './charts.tsx';
import { VerdictBadge } from './verdict-badge.tsx';

const CARD_MIN_WIDTH = 168;
/** A card's height with the gap below it: fixed, so that any row's place is known without drawing it. */
const ROW_HEIGHT = 236;
const GAP = 12;

export function ItemGrid(props: {
  rows: readonly ItemRow[];
  thumbnailUrl: string;
  modelId: RowFilter['modelId'];
  selected: ReadonlySet<string>;
  onSelect: (next: Set<string>) => void;
  label: string;
}) {
  const { t, language } = useI18n();
  const viewport = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  const [height, setHeight] = useState(600);
  const [scrollTop, setScrollTop] = useState(0);
  const [focusIndex, setFocusIndex] = useState(0);
  const anchor = useRef(0);
  const focusWanted = useRef(false);
  const frame = useRef(0);

  const columns = Math.max(1, Math.floor((width + GAP) / (CARD_MIN_WIDTH + GAP)));
  const count = props.rows.length;
  const view = visibleWindow(scrollTop, height, ROW_HEIGHT, columns, count);
  const focus = Math.min(focusIndex, Math.max(0, count - 1));

  useLayoutEffect(() => {
    const element = viewport.current!;
    const measure = () => {
      setWidth(element.clientWidth);
      setHeight(element.clientHeight);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // Keyboard focus follows the focused card once it is drawn (it may have been scrolled to just now).
  useEffect(() => {
    if (!focusWanted.current) return;
    const cell = viewport.current?.querySelector<HTMLElement>(`[data-index="${focus}"]`);
    if (cell) {
      focusWanted.current = false;
      cell.focus({ preventScroll: true });
    }
  });

  const scrollIntoView = (index: number) => {
    const element = viewport.current!;
    const top = Math.floor(index / columns) * ROW_HEIGHT;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + ROW_HEIGHT > element.scrollTop + element.clientHeight) element.scrollTop = top + ROW_HEIGHT - element.clientHeight;
    setScrollTop(element.scrollTop);
  };

  const select = (index: number, mode: 'toggle' | 'range') => {
    const id = props.rows[index].item_id;
    const next = new Set(props.selected);
    if (mode === 'range') {
      for (const each of rangeIds(props.rows, anchor.current, index)) next.add(each);
    } else {
      if (next.has(id)) next.delete(id);
      else next.add(id);
      anchor.current = index;
    }
    props.onSelect(next);
  };

  const open = (index: number) => {
    const row = props.rows[index];
    navigate(itemHref(row.item_id, row.target_id, row.tab === 'archived'));
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (count === 0) return;
    const pageRows = Math.max(1, Math.floor(height / ROW_HEIGHT));
    const target = moveFocus(event.key, focus, count, columns, pageRows);
    if (target !== null) {
      event.preventDefault();
      setFocusIndex(target);
      focusWanted.current = true;
      scrollIntoView(target);
      if (event.shiftKey) {
        const next = new Set(props.selected);
        for (const id of rangeIds(props.rows, anchor.current, target)) next.add(id);
        props.onSelect(next);
      } else anchor.current = target;
      return;
    }
    if (event.key === ' ') {
      event.preventDefault();
      select(focus, event.shiftKey ? 'range' : 'toggle');
    } else if (event.key === 'Enter') {
      event.preventDefault();
      open(focus);
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      props.onSelect(new Set(props.rows.map((row) => row.item_id)));
    } else if (event.key === 'Escape' && props.selected.size > 0) {
      event.preventDefault();
      props.onSelect(new Set());
    }
  };

  const onScroll = () => {
    // One state change per frame, however many scroll events the wheel sends.
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (viewport.current) setScrollTop(viewport.current.scrollTop);
    });
  };
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const gridRows = [];
  for (let r = view.firstRow; r <= view.lastRow; r++) {
    const cells = [];
    for (let c = 0; c < columns; c++) {
      const index = r * columns + c;
      if (index >= count) break;
      const row = props.rows[index];
      const verdict = verdictUnder(row, props.modelId);
      const result = resultOf(row, props.modelId);
      const selected = props.selected.has(row.item_id);
      const href = itemHref(row.item_id, row.target_id, row.tab === 'archived');
      cells.push(
        <div
          key={row.item_id}
          role="gridcell"
          aria-selected={selected}
          aria-colindex={c + 1}
          tabIndex={index === focus ? 0 : -1}
          data-index={index}
          data-item-id={row.item_id}
          data-verdict={verdict}
          class={`item-card vcard verdict-${verdict.toLowerCase()} ${selected ? 'is-selected' : ''}`}
          onFocus={() => setFocusIndex(index)}
        >
          <label class="item-select">
            <input
              type="checkbox"
              tabIndex={-1}
              checked={selected}
              aria-label={t('selectItem', { id: row.item_id })}
              onClick={(event) => {
                event.preventDefault();
                select(index, event.shiftKey ? 'range' : 'toggle');
              }}
            />
          </label>
          <a
            href={href}
            class="item-link"
            tabIndex={-1}
            onClick={(event) => {
              event.preventDefault();
              // Shift-click anywhere on a card extends the selection, as in a file manager.
              if (event.shiftKey) select(index, 'range');
              else open(index);
            }}
          >
            {row.image_id !== null ? (
              <img class="thumb" src={props.thumbnailUrl.replace('{image_id}', String(row.image_id))} alt="" loading="lazy" decoding="async" draggable={false} />
            ) : (
              <span class="thumb image-placeholder" />
            )}
            <span class="item-id ellipsis" title={row.item_id}>{row.item_id}</span>
          </a>
          <div class="item-meta">
            <VerdictBadge verdict={verdict} />
            {result && <span class="small muted" title={t('score')}>{formatScore(result.score)}</span>}
            {row.reviewed && <span class="badge badge-confirmed">{t('confirmed')}</span>}
          </div>
          <div class="small muted">{formatDate(row.finished_date ?? row.created_at, language)}</div>
        </div>,
      );
    }
    gridRows.push(
      <div key={r} role="row" aria-rowindex={r + 1} class="vgrid-row" style={{ transform: `translateY(${r * ROW_HEIGHT}px)`, gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
        {cells}
      </div>,
    );
  }

  return (
    <div
      ref={viewport}
      class="vgrid"
      role="grid"
      aria-label={props.label}
      aria-multiselectable="true"
      aria-rowcount={view.gridRows}
      aria-colcount={columns}
      data-testid="item-grid"
      onScroll={onScroll}
      onKeyDown={onKeyDown}
    >
      <div class="vgrid-inner" style={{ height: `${view.totalHeight}px` }}>
        {gridRows}
      </div>
    </div>
  );
}
