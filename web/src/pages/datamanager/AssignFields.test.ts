import { describe, expect, it } from "vitest";

import { ASSIGN_ACTIONS, assignParams } from "./AssignFields";

describe("assignParams", () => {
  it("sends the kind and the people ticked", () => {
    expect(assignParams({ type: "RE", users: [3, 7] })).toEqual({ type: "RE", users: [3, 7] });
  });

  it("leaves the people out when none is ticked (unassign everyone of that kind)", () => {
    expect(assignParams({ type: "AN", users: [] })).toEqual({ type: "AN" });
  });

  it("knows the two actions that ask for people", () => {
    expect([...ASSIGN_ACTIONS].sort()).toEqual(["assign_tasks", "unassign_tasks"]);
  });
});
