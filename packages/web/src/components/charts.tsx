import type { HistogramBin } from '../lib/histogram.ts';

/** Stacked OK / NG bars per score bin with the threshold as a dashed line. Plain SVG: no chart library. */
export function ScoreHistogram(props: { bins: HistogramBin[]; threshold: number | null; label: string; thresholdLabel: string }) {
  const { bins } = props;
  if (bins.length === 0) return null;
  const width = 560;
  const height = 200;
  const pad = { left: 32, right: 12, top: 12, bottom: 28 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const maxCount = Math.max(1, ...bins.map((b) => b.ok + b.ng));
  const low = bins[0].from;
  const high = bins[bins.length - 1].to;
  const x = (value: number) => pad.left + ((value - low) / (high - low)) * plotW;
  const y = (count: number) => pad.top + plotH - (count / maxCount) * plotH;
  const barW = plotW / bins.length;
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.label} data-testid="score-histogram">
      <line class="axis" x1={pad.left} y1={pad.top + plotH} x2={width - pad.right} y2={pad.top + plotH} />
      <text class="tick" x={pad.left - 4} y={pad.top + 8} text-anchor="end">{maxCount}</text>
      <text class="tick" x={pad.left - 4} y={pad.top + plotH} text-anchor="end">0</text>
      {bins.map((bin, i) => (
        <g key={i}>
          {bin.ok > 0 && <rect class="bar-ok" x={pad.left + i * barW + 1} y={y(bin.ok)} width={barW - 2} height={pad.top + plotH - y(bin.ok)} />}
          {bin.ng > 0 && <rect class="bar-ng" x={pad.left + i * barW + 1} y={y(bin.ok + bin.ng)} width={barW - 2} height={y(bin.ok) - y(bin.ok + bin.ng)} />}
        </g>
      ))}
      {[0, 0.5, 1].map((f) => (
        <text key={f} class="tick" x={pad.left + f * plotW} y={height - 8} text-anchor="middle">
          {formatScore(low + f * (high - low))}
        </text>
      ))}
      {props.threshold !== null && (
        <g class="threshold">
          <line x1={x(props.threshold)} x2={x(props.threshold)} y1={pad.top} y2={pad.top + plotH} />
          <text x={x(props.threshold) + 4} y={pad.top + 10}>{props.thresholdLabel}</text>
        </g>
      )}
    </svg>
  );
}

export function formatScore(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 0.01 || magnitude >= 1000)) return value.toExponential(1);
  return value.toFixed(magnitude < 10 ? 2 : 0);
}

/** OK / NG counts per model as horizontal stacked bars. */
export function VerdictBars(props: { rows: { name: string; ok: number; ng: number }[]; label: string }) {
  const rowH = 26;
  const width = 560;
  const labelW = 150;
  const height = props.rows.length * rowH + 8;
  const max = Math.max(1, ...props.rows.map((r) => r.ok + r.ng));
  const scale = (width - labelW - 60) / max;
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.label} data-testid="verdict-bars">
      {props.rows.map((row, i) => (
        <g key={i} transform={`translate(0 ${i * rowH + 4})`}>
          <text class="tick" x={labelW - 8} y={rowH / 2 + 4} text-anchor="end">
            {row.name.length > 22 ? `${row.name.slice(0, 21)}…` : row.name}
          </text>
          <rect class="bar-ok" x={labelW} y={3} width={row.ok * scale} height={rowH - 8} />
          <rect class="bar-ng" x={labelW + row.ok * scale} y={3} width={row.ng * scale} height={rowH - 8} />
          <text class="tick" x={labelW + (row.ok + row.ng) * scale + 6} y={rowH / 2 + 4}>
            {row.ok} / {row.ng}
          </text>
        </g>
      ))}
    </svg>
  );
}
