/**
 * Task HTML made safe before the Label Studio editor sees it.
 *
 * The editor (1.4.0) puts the value of a `<HyperText>` tag into the page as raw HTML, and
 * task data is whatever was imported, so an `<img onerror>` in it would run as whoever
 * opens the task. DOMPurify keeps the harmless markup (text formatting, tables, links with
 * safe schemes) and drops scripts, event handlers, `javascript:` URLs and the like; the
 * Content-Security-Policy the server sends is the second line behind it.
 */
import DOMPurify from "dompurify";

import type { TaskData } from "../api/tasks";

/** Tags of the labeling config whose `value` the editor renders as HTML. */
const HTML_TAGS = ["hypertext"];

/**
 * Besides DOMPurify's defaults: no `<style>` (it restyles the whole app, not just the
 * task) and no `<form>` (a fake sign-in box inside a task).
 */
const OPTIONS = { FORBID_TAGS: ["style", "form"] };

/** `html` with everything that could run script removed. */
export function sanitizeHtml(html: string): string {
  return DOMPurify.sanitize(html, OPTIONS);
}

/** The task data fields (`$name`, or `$a.b` for nested data) the config renders as HTML. */
export function htmlFields(config: string): string[] {
  // The HTML parser is forgiving (the config is XML with self-closing tags); only the
  // tags' attributes are read, so how it nests them does not matter.
  const parsed = new DOMParser().parseFromString(config, "text/html");
  const fields = new Set<string>();
  for (const element of parsed.querySelectorAll(HTML_TAGS.join(","))) {
    const value = element.getAttribute("value")?.trim() ?? "";
    if (value.startsWith("$") && value.length > 1) fields.add(value.slice(1));
  }
  return [...fields];
}

function sanitizeAt(data: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const [key, ...rest] = path;
  if (!Object.prototype.hasOwnProperty.call(data, key)) return data;
  const value = data[key];
  if (rest.length === 0) {
    return typeof value === "string" ? { ...data, [key]: sanitizeHtml(value) } : data;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return data;
  return { ...data, [key]: sanitizeAt(value as Record<string, unknown>, rest) };
}

/** A copy of `data` whose fields rendered as HTML by `config` are sanitized. */
export function sanitizeTaskData(config: string, data: TaskData): TaskData {
  let safe = data as Record<string, unknown>;
  for (const field of htmlFields(config)) {
    safe = sanitizeAt(safe, field.split("."));
  }
  return safe as TaskData;
}
