// DOMPurify is tested in jsdom, the DOM its own test suite uses: happy-dom parses HTML
// differently enough that DOMPurify keeps event handlers there (a browser does not).
// @vitest-environment jsdom
import { describe, expect, it } from "vitest";

import { htmlFields, sanitizeHtml, sanitizeTaskData } from "./sanitize";

const CONFIG = `<View>
  <HyperText name="page" value="$html"/>
  <Text name="plain" value="$text"/>
  <HyperText name="nested" value="$doc.body"/>
  <Choices name="label" toName="page"><Choice value="A"/></Choices>
</View>`;

describe("sanitizeHtml", () => {
  it("keeps text formatting and safe links", () => {
    const html = '<p>An <b>bold</b> and <i>italic</i> <a href="https://example.com/x">link</a></p>';
    expect(sanitizeHtml(html)).toBe(html);
  });

  it("removes scripts, event handlers and javascript: URLs", () => {
    const safe = sanitizeHtml(
      '<img src="x" onerror="window.__xss=1"><script>window.__xss=2</script>' +
        '<a href="javascript:alert(1)">click</a><svg onload="alert(1)"></svg>' +
        '<iframe src="https://evil.example"></iframe>',
    );
    expect(safe).not.toMatch(/onerror|onload|<script|javascript:|<iframe/i);
    expect(safe).toContain("<img");
    expect(safe).toContain(">click</a>");
  });

  it("removes style sheets and forms", () => {
    expect(sanitizeHtml("<style>body{display:none}</style><form action=/x><input></form>ok")).toBe(
      "<input>ok",
    );
  });
});

describe("sanitizeTaskData", () => {
  it("finds the fields HyperText renders, nested ones too", () => {
    expect(htmlFields(CONFIG).sort()).toEqual(["doc.body", "html"]);
  });

  it("sanitizes only those fields and leaves the rest as imported", () => {
    const data = {
      html: '<b>hi</b><img src=x onerror="window.__xss=1">',
      text: "a < b & <img src=x onerror=1>",
      doc: { body: "<script>1</script><i>body</i>", title: "<script>kept as text</script>" },
      count: 3,
    };
    const safe = sanitizeTaskData(CONFIG, data);
    expect(safe).toEqual({
      html: '<b>hi</b><img src="x">',
      text: data.text,
      doc: { body: "<i>body</i>", title: data.doc.title },
      count: 3,
    });
    expect(data.html).toContain("onerror");
  });

  it("ignores fields that are missing or not strings", () => {
    const data = { doc: "not an object", html: 5 };
    expect(sanitizeTaskData(CONFIG, data)).toEqual(data);
  });
});
