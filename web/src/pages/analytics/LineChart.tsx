/** A small line chart in plain SVG (no chart library: four lines do not need 100 kB). */
import { type ChartSeries, linePath, niceMax, pointCoordinates } from "./chart";

const WIDTH = 480;
const HEIGHT = 160;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];

export function LineChart({
  title,
  labels,
  series,
  format,
  maxValue,
}: {
  title: string;
  /** One label per point (the periods). */
  labels: string[];
  series: ChartSeries[];
  format: (value: number) => string;
  /** A fixed top of the y axis (e.g. 1 for ratios); else rounded up from the data. */
  maxValue?: number;
}) {
  const highest = Math.max(0, ...series.flatMap((line) => line.values.filter((v): v is number => v !== null)));
  const top = maxValue ?? niceMax(highest);
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return (
    <figure className="analytics-chart" data-testid={`chart-${slug}`}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`-44 -8 ${WIDTH + 52} ${HEIGHT + 28}`} role="img" aria-label={title}>
        {[0, 0.5, 1].map((share) => (
          <g key={share}>
            <line x1={0} x2={WIDTH} y1={HEIGHT * (1 - share)} y2={HEIGHT * (1 - share)} className="analytics-grid" />
            <text x={-6} y={HEIGHT * (1 - share) + 4} textAnchor="end" className="analytics-axis">
              {format(top * share)}
            </text>
          </g>
        ))}
        {labels.length > 0 && (
          <>
            <text x={0} y={HEIGHT + 18} className="analytics-axis">
              {labels[0]}
            </text>
            <text x={WIDTH} y={HEIGHT + 18} textAnchor="end" className="analytics-axis">
              {labels[labels.length - 1]}
            </text>
          </>
        )}
        {series.map((line, index) => (
          <g key={line.label} stroke={COLORS[index % COLORS.length]} fill={COLORS[index % COLORS.length]}>
            <title>{line.label}</title>
            <path d={linePath(line.values, WIDTH, HEIGHT, top)} fill="none" strokeWidth={2} />
            {pointCoordinates(line.values, WIDTH, HEIGHT, top).map(([x, y]) => (
              <circle key={x} cx={x} cy={y} r={2.5} />
            ))}
          </g>
        ))}
      </svg>
      <ul className="analytics-legend">
        {series.map((line, index) => (
          <li key={line.label}>
            <span className="analytics-swatch" style={{ background: COLORS[index % COLORS.length] }} />
            {line.label}
          </li>
        ))}
      </ul>
    </figure>
  );
}
