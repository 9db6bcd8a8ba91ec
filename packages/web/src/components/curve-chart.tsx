import type { CurvePoint } from '../lib/evaluation.ts';

/** A curve on the unit square (ROC, precision–recall) with the point of the current threshold marked. Plain SVG. */
export function CurveChart(props: { points: CurvePoint[]; at: CurvePoint | null; label: string; xLabel: string; yLabel: string; diagonal?: boolean; testId: string }) {
  const size = 220;
  const pad = { left: 36, right: 10, top: 10, bottom: 34 };
  const plot = size - pad.left - pad.right;
  const x = (v: number) => pad.left + v * plot;
  const y = (v: number) => pad.top + (1 - v) * plot;
  const path = props.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
  return (
    <svg class="chart curve-chart" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={props.label} data-testid={props.testId}>
      <rect class="plot-area" x={pad.left} y={pad.top} width={plot} height={plot} />
      {props.diagonal && <line class="diagonal" x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} />}
      <path class="curve" d={path} />
      {props.at && <circle class="curve-at" cx={x(props.at.x)} cy={y(props.at.y)} r={5} />}
      {[0, 0.5, 1].map((v) => (
        <g key={v}>
          <text class="tick" x={x(v)} y={size - pad.bottom + 14} text-anchor="middle">{v}</text>
          <text class="tick" x={pad.left - 4} y={y(v) + 4} text-anchor="end">{v}</text>
        </g>
      ))}
      <text class="axis-label" x={pad.left + plot / 2} y={size - 4} text-anchor="middle">{props.xLabel}</text>
      <text class="axis-label" x={10} y={pad.top + plot / 2} text-anchor="middle" transform={`rotate(-90 10 ${pad.top + plot / 2})`}>{props.yLabel}</text>
    </svg>
  );
}
