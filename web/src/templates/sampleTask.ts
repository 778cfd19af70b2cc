/**
 * Builds a sample task for the config preview from the config's `$variables`: each object
 * tag gets data of its kind, served by the app itself (the preview never reaches outside).
 */

const SAMPLE_TEXT =
  "Ada Lovelace met Charles Babbage in London on 5 June 1833, and the Analytical Engine " +
  "project changed how she thought about computing. The reviews were glowing: a remarkable " +
  "machine, years ahead of its time.";

const SAMPLE_HTML =
  "<article><h3>Local startup Nimbus Labs ships its first product</h3>" +
  "<p><b>Maria Chen</b>, founder of <i>Nimbus Labs</i>, announced the <u>Nimbus One</u> " +
  "weather station today. Pre-orders open next week.</p></article>";

function assetUrl(path: string): string {
  return new URL(`${import.meta.env.BASE_URL}samples/${path}`, window.location.origin).toString();
}

/** A CSV with the time column and every channel column the config names, as a data: URL. */
function timeSeriesCsv(element: Element): string {
  const timeColumn = element.getAttribute("timeColumn") || "time";
  const separator = element.getAttribute("sep") || ",";
  const columns = Array.from(element.getElementsByTagName("Channel"))
    .map((channel) => channel.getAttribute("column"))
    .filter((column): column is string => !!column && column !== timeColumn);
  const rows = [[timeColumn, ...columns].join(separator)];
  for (let index = 0; index < 120; index++) {
    const time = index / 10;
    const values = columns.map((_, channel) =>
      (Math.sin(time * (1 + channel * 0.7)) * (5 + channel * 3)).toFixed(3),
    );
    rows.push([time.toFixed(1), ...values].join(separator));
  }
  return `data:text/csv;charset=utf-8,${encodeURIComponent(rows.join("\n"))}`;
}

function timeSeriesObject(element: Element): Record<string, number[]> {
  const timeColumn = element.getAttribute("timeColumn") || "time";
  const series: Record<string, number[]> = { [timeColumn]: [] };
  const columns = Array.from(element.getElementsByTagName("Channel"))
    .map((channel) => channel.getAttribute("column"))
    .filter((column): column is string => !!column && column !== timeColumn);
  for (const column of columns) series[column] = [];
  for (let index = 0; index < 120; index++) {
    series[timeColumn]!.push(index);
    columns.forEach((column, channel) => series[column]!.push(Math.sin(index / 10 + channel) * 5));
  }
  return series;
}

function sampleFor(element: Element): unknown {
  const tag = element.tagName.toLowerCase();
  switch (tag) {
    case "image":
      return assetUrl("image.png");
    case "audio":
    case "audioplus":
      return assetUrl("audio.wav");
    case "hypertext":
      return SAMPLE_HTML;
    case "timeseries":
      return element.getAttribute("valueType") === "url" ? timeSeriesCsv(element) : timeSeriesObject(element);
    case "paragraphs":
      return [
        { author: "Alice", text: "Did the build pass this morning?" },
        { author: "Bob", text: "Yes, all green after the fix." },
      ];
    case "table":
      return { name: "Nimbus One", price: "129", color: "white" };
    case "header":
      return "Sample header";
    default:
      return SAMPLE_TEXT;
  }
}

export interface ParsedConfig {
  /** The XML document, or null when the text is not well-formed XML. */
  document: XMLDocument | null;
  /** The browser's parse error, when there is one. */
  error: string | null;
}

export function parseConfig(config: string): ParsedConfig {
  const document = new DOMParser().parseFromString(config, "application/xml");
  const problem = document.getElementsByTagName("parsererror")[0];
  if (problem) {
    const text = (problem.textContent ?? "").replace(/\s+/g, " ").trim();
    return { document: null, error: text || "The configuration is not well-formed XML." };
  }
  return { document, error: null };
}

/** `{text: "...", image: "http://.../samples/image.png", ...}` for every `$variable`. */
export function sampleTaskData(document: XMLDocument): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const element of Array.from(document.getElementsByTagName("*"))) {
    for (const attribute of ["value", "valueList"]) {
      const raw = element.getAttribute(attribute);
      if (!raw || !raw.startsWith("$")) continue;
      const key = raw.slice(1).split(".")[0];
      if (key && !(key in data)) data[key] = sampleFor(element);
    }
  }
  return data;
}
