/** The arithmetic of the analytics page's charts and figures, kept apart so it is tested. */

export interface ChartSeries {
  label: string;
  /** One value per point; null where nothing was measured (a gap in the line). */
  values: (number | null)[];
}

/** A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

/** SVG path commands for one series, breaking the line at gaps. */
export function linePath(values: (number | null)[], width: number, height: number, top: number): string {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const parts: string[] = [];
  let drawing = false;
  values.forEach((value, index) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = values.length > 1 ? index * step : width / 2;
    const y = height - (value / top) * height;
    parts.push(`${drawing ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`);
    drawing = true;
  });
  return parts.join(" ");
}

/** The measured points' coordinates (drawn as dots, so a lone value between gaps shows). */
export function pointCoordinates(
  values: (number | null)[],
  width: number,
  height: number,
  top: number,
): [number, number][] {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const found: [number, number][] = [];
  values.forEach((value, index) => {
    if (value === null) return;
    found.push([values.length > 1 ? index * step : width / 2, height - (value / top) * height]);
  });
  return found;
}

/** A count on an axis: whole numbers as they are, halves with one decimal. */
export function formatAxisCount(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(1);
}

/** Seconds as "42 s", "3.5 min" or "2.1 h"; an em dash when unmeasured. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${round(seconds)} s`;
  if (seconds < 3600) return `${round(seconds / 60)} min`;
  return `${round(seconds / 3600)} h`;
}

/** A 0..1 ratio as a percentage; an em dash when unmeasured. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  return `${round(ratio * 100)}%`;
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** `YYYY-MM-DD` of a date in UTC (the API's days are UTC days). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The period's label on the x axis: the day, or the day and hour. */
export function periodLabel(period: string, interval: "day" | "hour"): string {
  return interval === "day" ? period.slice(0, 10) : `${period.slice(0, 10)} ${period.slice(11, 16)}`;
}
