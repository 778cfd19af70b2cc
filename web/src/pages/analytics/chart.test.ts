import { describe, expect, it } from "vitest";

import { formatAxisCount, formatRatio, formatSeconds, isoDay, linePath, niceMax, periodLabel, pointCoordinates } from "./chart";

describe("analytics chart arithmetic", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(120)).toBe(200);
    expect(niceMax(0.62)).toBe(1);
  });

  it("breaks the line where nothing was measured", () => {
    expect(linePath([0, 10, null, 5], 30, 100, 10)).toBe("M0.0,100.0 L10.0,0.0 M30.0,50.0");
    expect(linePath([4], 40, 100, 8)).toBe("M20.0,50.0");
    expect(pointCoordinates([null, 5, null], 20, 100, 10)).toEqual([[10, 50]]);
  });

  it("formats seconds, ratios, days and periods", () => {
    expect(formatSeconds(null)).toBe("—");
    expect(formatSeconds(12.5)).toBe("12.5 s");
    expect(formatSeconds(210)).toBe("3.5 min");
    expect(formatSeconds(7560)).toBe("2.1 h");
    expect(formatAxisCount(0.5)).toBe("0.5");
    expect(formatAxisCount(2)).toBe("2");
    expect(formatRatio(0.625)).toBe("62.5%");
    expect(formatRatio(undefined)).toBe("—");
    expect(isoDay(new Date(Date.UTC(2026, 10, 2, 23, 59)))).toBe("2026-11-02");
    expect(periodLabel("2026-11-02T09:00:00Z", "hour")).toBe("2026-11-02 09:00");
    expect(periodLabel("2026-11-02T00:00:00Z", "day")).toBe("2026-11-02");
  });
});
