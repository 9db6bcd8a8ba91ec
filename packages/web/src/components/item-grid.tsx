// A grid of thousands of items that draws only the rows in view (plus a few), so that scrolling 10,000 items costs
// what scrolling 50 does. Selection as a file manager does it: click the box, shift-click a range; on the keyboard
// arrows / Page / Home / End move, Space toggles, Shift+move extends, Ctrl+A selects all shown, Escape clears,
// Enter opens. For screen readers it is an ARIA grid that is multi-selectable, with row and cell positions.
import { Component } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ItemRow } from '@kensa/sdk';
import { itemHref, navigate } from '../app-context.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import type { Language, Translate } from '../i18n/i18n.tsx';
import { moveFocus, rangeIds, resultOf, verdictUnder, visibleWindow } from '../lib/item-rows.ts';
import type { RowFilter } from '../lib/item-rows.ts';
import { formatScore } from './charts.tsx';
import { VerdictBadge } from './verdict-badge.tsx';

const CARD_MIN_WIDTH = 168;
/** A card's height with the gap below it: fixed, so that any row's place is known without drawing it. */
const ROW_HEIGHT = 236;
const GAP = 12;
const SCROLL_REST_MS = 120;

export function ItemGrid(props: {
  rows: readonly ItemRow[];
  thumbnailUrl: string;
  modelId: RowFilter['modelId'];
  selected: ReadonlySet<string>;
  onSelect: (next: Set<string>) => void;
  onScroll?: () => void;
  label: string;
}) {
  const { t, language } = useI18n();
  const viewport = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  const [height, setHeight] = useState(600);
  const [scrollTop, setScrollTop] = useState(0);
  const [focusIndex, setFocusIndex] = useState(0);
  const anchor = useRef(0);
  /** The card keyboard focus must move to once it is drawn (it may have been scrolled to just now). */
  const focusWanted = useRef<number | null>(null);
  const frame = useRef(0);
  // Rows that come into view while scrolling are sketched, and thumbnails wait until scrolling rests: a fling to the end
  // of 10,000 items then builds a few nodes per card and fetches the ~50 thumbnails in view at the end, not thousands on
  // the way (which is what made the main thread stall).
  const [scrolling, setScrolling] = useState(false);
  const restTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

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

  // Before the next key press is handled: keys pressed fast each start from the card the previous one reached.
  useLayoutEffect(() => {
    if (focusWanted.current === null) return;
    const cell = viewport.current?.querySelector<HTMLElement>(`[data-index="${focusWanted.current}"]`);
    if (cell) {
      focusWanted.current = null;
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
      focusWanted.current = target;
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
    props.onScroll?.();
    setScrolling(true);
    clearTimeout(restTimer.current);
    restTimer.current = setTimeout(() => setScrolling(false), SCROLL_REST_MS);
    // One state change per frame, however many scroll events the wheel sends.
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (viewport.current) setScrollTop(viewport.current.scrollTop);
    });
  };
  useEffect(() => () => {
    cancelAnimationFrame(frame.current);
    clearTimeout(restTimer.current);
  }, []);

  // The latest handlers behind one stable object, so that a row drawn before need not be drawn again.
  const actions = useRef<GridActions>({ select, open, focus: setFocusIndex });
  actions.current = { select, open, focus: setFocusIndex };

  const gridRows = [];
  for (let r = view.firstRow; r <= view.lastRow; r++) {
    gridRows.push(
      <GridRow key={r} r={r} columns={columns} rows={props.rows} selected={props.selected} focus={focus} modelId={props.modelId}
        thumbnailUrl={props.thumbnailUrl} images={!scrolling} actions={actions} t={t} language={language} />,
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

interface GridActions {
  select: (index: number, mode: 'toggle' | 'range') => void;
  open: (index: number) => void;
  focus: (index: number) => void;
}

interface GridRowProps {
  r: number;
  columns: number;
  rows: readonly ItemRow[];
  selected: ReadonlySet<string>;
  focus: number;
  modelId: RowFilter['modelId'];
  thumbnailUrl: string;
  /** False while scrolling: rows drawn then are sketched (id and verdict colour), whole cards once it rests. */
  images: boolean;
  actions: { current: GridActions };
  t: Translate;
  language: Language;
}

/**
 * One row of cards. While scrolling, only rows that come into view are drawn: a row already on screen is left alone
 * unless its items, the selection, or the focus within it changed.
 */
class GridRow extends Component<GridRowProps> {
  override shouldComponentUpdate(next: GridRowProps): boolean {
    const current = this.props;
    const inRow = (index: number, props: GridRowProps) => Math.floor(index / props.columns) === props.r;
    const focusMoved = current.focus !== next.focus && (inRow(current.focus, current) || inRow(next.focus, next));
    return focusMoved || current.r !== next.r || current.columns !== next.columns || current.rows !== next.rows || current.selected !== next.selected
      || current.modelId !== next.modelId || current.thumbnailUrl !== next.thumbnailUrl || current.t !== next.t
      || (current.images !== next.images && !this.imagesShown);
  }

  /** Once a row showed its whole cards it keeps them (thumbnails loaded): scrolling again does not sketch it anew. */
  private imagesShown = false;

  override render() {
    const { r, columns, rows, selected, focus, modelId, thumbnailUrl, actions, t, language } = this.props;
    if (this.props.images) this.imagesShown = true;
    const images = this.imagesShown;
    const cells = [];
    for (let c = 0; c < columns; c++) {
      const index = r * columns + c;
      if (index >= rows.length) break;
      const row = rows[index];
      const verdict = verdictUnder(row, modelId);
      const result = resultOf(row, modelId);
      const isSelected = selected.has(row.item_id);
      const href = itemHref(row.item_id, row.target_id, row.tab === 'archived');
      cells.push(
        <div
          key={row.item_id}
          role="gridcell"
          aria-selected={isSelected}
          aria-colindex={c + 1}
          tabIndex={index === focus ? 0 : -1}
          data-index={index}
          data-item-id={row.item_id}
          data-verdict={verdict}
          class={`item-card vcard verdict-${verdict.toLowerCase()} ${isSelected ? 'is-selected' : ''}`}
          onFocus={() => actions.current.focus(index)}
        >
          {!images ? (
            // Drawn mid-fling: the id and the verdict's colour only; the card fills in when scrolling rests.
            <span class="item-id ellipsis vcard-sketch">{row.item_id}</span>
          ) : (<>
          <label class="item-select">
            <input
              type="checkbox"
              tabIndex={-1}
              checked={isSelected}
              aria-label={t('selectItem', { id: row.item_id })}
              onClick={(event) => {
                event.preventDefault();
                actions.current.select(index, event.shiftKey ? 'range' : 'toggle');
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
              if (event.shiftKey) actions.current.select(index, 'range');
              else actions.current.open(index);
            }}
          >
            {row.image_id !== null ? (
              <img class="thumb" src={thumbnailUrl.replace('{image_id}', String(row.image_id))} alt="" loading="lazy" decoding="async" draggable={false} />
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
          </>)}
        </div>,
      );
    }
    return (
      <div role="row" aria-rowindex={r + 1} class="vgrid-row" style={{ transform: `translateY(${r * ROW_HEIGHT}px)`, gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
        {cells}
      </div>
    );
  }
}
