import { describe, expect, it } from "vitest";

import { headerLines, parseHeaders } from "./WebhookSettings";

describe("webhook header lines", () => {
  it("parses Name: value lines, keeping colons in values and skipping blank lines", () => {
    expect(parseHeaders("Authorization: Bearer a:b\n\n  X-Team:ml  \n")).toEqual({
      Authorization: "Bearer a:b",
      "X-Team": "ml",
    });
  });

  it("refuses a line without a name", () => {
    expect(() => parseHeaders("just a value")).toThrow(/Name: value/);
    expect(() => parseHeaders(": value")).toThrow(/Name: value/);
  });

  it("round-trips the masked headers a webhook is served with", () => {
    const served = { Authorization: "********", "X-Team": "********" };
    expect(parseHeaders(headerLines(served))).toEqual(served);
  });
});
