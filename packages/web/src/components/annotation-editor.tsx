import { useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { AnnotationInput, DetectedBox } from '@kensa/sdk';
import { useI18n } from '../i18n/i18n.tsx';

export interface EditorBox extends AnnotationInput {
  /** Stable key while editing (the server gives ids only after saving). */
  key: string;
}

type Drag =
  | { mode: 'draw'; startX: number; startY: number; box: EditorBox }
  | { mode: 'move'; key: string; offsetX: number; offsetY: number; width: number; height: number }
  | { mode: 'resize'; key: string; anchorX: number; anchorY: number };

/** Boxes smaller than this (image pixels) are treated as a click, not a drawing. */
const MIN_BOX = 3;
let nextKey = 0;
export const newBoxKey = () => `box-${++nextKey}`;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

function normalise(x1: number, y1: number, x2: number, y2: number): Pick<AnnotationInput, 'x_min' | 'x_max' | 'y_min' | 'y_max'> {
  return {
    x_min: Math.round(Math.min(x1, x2)),
    x_max: Math.round(Math.max(x1, x2)),
    y_min: Math.round(Math.min(y1, y2)),
    y_max: Math.round(Math.max(y1, y2)),
  };
}

/**
 * The image large, with the heatmap blended over it, the boxes a model detected (read-only) and the person's
 * annotation boxes, which are drawn, moved, resized and deleted with a mouse, a pen or a finger (pointer
 * events), and with the keyboard once a box has focus. Coordinates are pixels of the original image: the
 * SVG's viewBox is the image's size, so the browser does the scaling.
 */
export function AnnotationEditor(props: {
  width: number;
  height: number;
  imageSrc: ComponentChildren;
  heatmap: ComponentChildren | null;
  heatmapOpacity: number;
  detected: DetectedBox[];
  showDetected: boolean;
  boxes: EditorBox[];
  showBoxes: boolean;
  onChange: (boxes: EditorBox[]) => void;
}) {
  const { t } = useI18n();
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const { width, height } = props;

  const toImage = (event: PointerEvent) => {
    const rect = svg.current!.getBoundingClientRect();
    return {
      x: clamp(((event.clientX - rect.left) / rect.width) * width, 0, width),
      y: clamp(((event.clientY - rect.top) / rect.height) * height, 0, height),
    };
  };

  const update = (key: string, change: (box: EditorBox) => EditorBox) =>
    props.onChange(props.boxes.map((box) => (box.key === key ? change(box) : box)));

  const remove = (key: string) => {
    props.onChange(props.boxes.filter((box) => box.key !== key));
    setSelected(null);
  };

  const onPointerDown = (event: PointerEvent) => {
    if (!props.showBoxes || event.button > 0) return;
    const target = event.target as Element;
    const key = target.getAttribute('data-key');
    const point = toImage(event);
    svg.current!.setPointerCapture(event.pointerId);
    event.preventDefault();
    if (key && target.classList.contains('resize-handle')) {
      const box = props.boxes.find((b) => b.key === key)!;
      // The corner opposite the dragged one stays put.
      const handle = target.getAttribute('data-corner')!;
      setDrag({ mode: 'resize', key, anchorX: handle.includes('w') ? box.x_max : box.x_min, anchorY: handle.includes('n') ? box.y_max : box.y_min });
      setSelected(key);
    } else if (key) {
      const box = props.boxes.find((b) => b.key === key)!;
      setDrag({ mode: 'move', key, offsetX: point.x - box.x_min, offsetY: point.y - box.y_min, width: box.x_max - box.x_min, height: box.y_max - box.y_min });
      setSelected(key);
    } else {
      const box: EditorBox = { key: newBoxKey(), x_min: point.x, x_max: point.x, y_min: point.y, y_max: point.y, notes: null };
      setDrag({ mode: 'draw', startX: point.x, startY: point.y, box });
      setSelected(null);
    }
  };

  const onPointerMove = (event: PointerEvent) => {
    if (!drag) return;
    const point = toImage(event);
    if (drag.mode === 'draw') {
      setDrag({ ...drag, box: { ...drag.box, ...normalise(drag.startX, drag.startY, point.x, point.y) } });
    } else if (drag.mode === 'move') {
      const x = Math.round(clamp(point.x - drag.offsetX, 0, width - drag.width));
      const y = Math.round(clamp(point.y - drag.offsetY, 0, height - drag.height));
      update(drag.key, (box) => ({ ...box, x_min: x, x_max: x + drag.width, y_min: y, y_max: y + drag.height }));
    } else {
      update(drag.key, (box) => ({ ...box, ...normalise(drag.anchorX, drag.anchorY, point.x, point.y) }));
    }
  };

  const onPointerUp = () => {
    if (drag?.mode === 'draw') {
      const box = drag.box;
      if (box.x_max - box.x_min >= MIN_BOX && box.y_max - box.y_min >= MIN_BOX) {
        props.onChange([...props.boxes, box]);
        setSelected(box.key);
      }
    }
    setDrag(null);
  };

  const onBoxKey = (event: KeyboardEvent, box: EditorBox) => {
    const step = (event.shiftKey ? 0.05 : 0.01) * Math.max(width, height);
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      remove(box.key);
    } else if (event.key === '+' || event.key === '=' || event.key === '-') {
      // Grow or shrink around the centre, for people who cannot drag a corner.
      event.preventDefault();
      const d = event.key === '-' ? -step / 2 : step / 2;
      update(box.key, (b) => {
        const next = { ...b, x_min: clamp(Math.round(b.x_min - d), 0, width), x_max: clamp(Math.round(b.x_max + d), 0, width), y_min: clamp(Math.round(b.y_min - d), 0, height), y_max: clamp(Math.round(b.y_max + d), 0, height) };
        return next.x_max - next.x_min >= MIN_BOX && next.y_max - next.y_min >= MIN_BOX ? next : b;
      });
    } else if (moves[event.key]) {
      event.preventDefault();
      const [dx, dy] = moves[event.key];
      const w = box.x_max - box.x_min;
      const h = box.y_max - box.y_min;
      const x = Math.round(clamp(box.x_min + dx, 0, width - w));
      const y = Math.round(clamp(box.y_min + dy, 0, height - h));
      update(box.key, (b) => ({ ...b, x_min: x, x_max: x + w, y_min: y, y_max: y + h }));
    }
  };

  /** A box in the middle of the image, focused, to be placed with the arrow keys and sized with + and −. */
  const addCentred = () => {
    const w = Math.round(width / 5);
    const h = Math.round(height / 5);
    const box: EditorBox = { key: newBoxKey(), x_min: Math.round((width - w) / 2), x_max: Math.round((width + w) / 2), y_min: Math.round((height - h) / 2), y_max: Math.round((height + h) / 2), notes: null };
    props.onChange([...props.boxes, box]);
    setSelected(box.key);
    requestAnimationFrame(() => svg.current?.querySelector<SVGElement>(`[data-key="${box.key}"]`)?.focus());
  };

  // Strokes and handles keep the same size on screen whatever the image's resolution.
  const unit = Math.max(width, height) / 400;
  const drawn = drag?.mode === 'draw' ? drag.box : null;
  const handleSize = unit * 5;

  return (
    <div class="annotation-stage" style={{ aspectRatio: `${width} / ${height}`, '--ratio': String(width / height) } as Record<string, string>}>
      {props.imageSrc}
      {props.heatmap && (
        <div class="heatmap-layer" style={{ opacity: props.heatmapOpacity }}>
          {props.heatmap}
        </div>
      )}
      <svg
        ref={svg}
        class={`annotation-layer ${props.showBoxes ? 'editable' : ''}`}
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        data-testid="annotation-layer"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        {props.showDetected &&
          props.detected.map((box, index) => (
            <g class="detected-box" key={`d${index}`} data-testid="detected-box">
              <rect x={box.x_min} y={box.y_min} width={box.x_max - box.x_min} height={box.y_max - box.y_min} stroke-width={unit * 1.5} />
              {typeof box.score === 'number' && (
                <text x={box.x_min} y={Math.max(unit * 10, box.y_min - unit * 2)} font-size={unit * 9}>
                  {box.score.toFixed(2)}
                </text>
              )}
            </g>
          ))}
        {props.showBoxes &&
          props.boxes.map((box) => {
            const w = box.x_max - box.x_min;
            const h = box.y_max - box.y_min;
            const isSelected = selected === box.key;
            return (
              <g key={box.key} class={`annotation-box ${isSelected ? 'selected' : ''}`}>
                <rect
                  data-key={box.key}
                  data-testid="annotation-box"
                  x={box.x_min}
                  y={box.y_min}
                  width={w}
                  height={h}
                  stroke-width={unit * (isSelected ? 2 : 1.5)}
                  tabIndex={0}
                  role="button"
                  aria-label={`${t('annotationsTitle')} ${box.x_min},${box.y_min} – ${box.x_max},${box.y_max}`}
                  onFocus={() => setSelected(box.key)}
                  onKeyDown={(e) => onBoxKey(e, box)}
                />
                {isSelected &&
                  (['nw', 'ne', 'sw', 'se'] as const).map((corner) => (
                    <rect
                      key={corner}
                      class="resize-handle"
                      data-key={box.key}
                      data-corner={corner}
                      x={(corner.includes('w') ? box.x_min : box.x_max) - handleSize / 2}
                      y={(corner.includes('n') ? box.y_min : box.y_max) - handleSize / 2}
                      width={handleSize}
                      height={handleSize}
                    />
                  ))}
              </g>
            );
          })}
        {drawn && (
          <rect class="annotation-draft" x={drawn.x_min} y={drawn.y_min} width={drawn.x_max - drawn.x_min} height={drawn.y_max - drawn.y_min} stroke-width={unit * 1.5} />
        )}
      </svg>
      {selected && props.showBoxes && (
        <button type="button" class="delete-box button-danger" onClick={() => remove(selected)}>
          {t('deleteBox')}
        </button>
      )}
      {props.showBoxes && (
        <button type="button" class="add-box" onClick={addCentred} data-testid="add-box">
          {t('addBox')}
        </button>
      )}
    </div>
  );
}
