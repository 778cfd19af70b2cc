import { describe, expect, it } from "vitest";

import { commentAuthor } from "./comments";
import type { Comment } from "./types";

function comment(createdBy: Comment["created_by"]): Comment {
  return {
    id: 1,
    text: "Is this positive?",
    project: 1,
    task: 1,
    annotation: null,
    region_ref: null,
    created_by: createdBy,
    created_at: "2026-12-05T20:00:00Z",
    updated_at: "2026-12-05T20:00:00Z",
    is_resolved: false,
    resolved_at: null,
  };
}

describe("a comment's author in the side panel", () => {
  it("is the expanded author's name, else their email, else their id", () => {
    expect(commentAuthor(comment({ id: 7, first_name: "Ada", last_name: "Lovelace" }))).toBe(
      "Ada Lovelace",
    );
    expect(commentAuthor(comment({ id: 7, first_name: "", email: "ada@example.com" }))).toBe(
      "ada@example.com",
    );
    expect(commentAuthor(comment({ id: 7 }))).toBe("User 7");
    expect(commentAuthor(comment(7))).toBe("User 7");
  });
});
