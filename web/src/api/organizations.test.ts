import { describe, expect, it } from "vitest";

import { canChangeRole, grantableRoles } from "./organizations";

describe("the role change the members page offers", () => {
  it("is an administrator's, over a member of a lower rank, never their own", () => {
    expect(canChangeRole("administrator", 1, "manager", 2)).toBe(true);
    expect(canChangeRole("owner", 1, "administrator", 2)).toBe(true);
    expect(canChangeRole("administrator", 1, "administrator", 2)).toBe(false);
    expect(canChangeRole("administrator", 1, "owner", 2)).toBe(false);
    expect(canChangeRole("manager", 1, "annotator", 2)).toBe(false);
    expect(canChangeRole("owner", 1, "owner", 1)).toBe(false);
  });

  it("offers roles up to the caller's own", () => {
    expect(grantableRoles("administrator")).toEqual([
      "annotator",
      "reviewer",
      "manager",
      "administrator",
    ]);
    expect(grantableRoles(null)).toEqual([]);
  });
});
