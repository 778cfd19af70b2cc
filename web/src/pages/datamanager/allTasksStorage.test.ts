import { afterEach, describe, expect, it, vi } from "vitest";

import { allTasksKey, storeAllTasksTab, storedAllTasksTab } from "./allTasksStorage";
import type { TabState } from "./dataManagerState";

const TAB: TabState = {
  rows: [{ column: "tasks:data.text", operator: "contains", text: "review" }],
  conjunction: "or",
  ordering: ["-tasks:id"],
  hidden: ["tasks:inner_id"],
};

afterEach(() => window.localStorage.clear());

describe("the All tasks tab in localStorage", () => {
  it("stores a tab per project and reads it back", () => {
    storeAllTasksTab(1, TAB);
    expect(window.localStorage.getItem(allTasksKey(1))).toBe(JSON.stringify(TAB));
    expect(storedAllTasksTab(1)).toEqual(TAB);
    expect(storedAllTasksTab(2)).toBeNull();
  });

  it("ignores what is not a tab", () => {
    window.localStorage.setItem(allTasksKey(1), "{not json");
    expect(storedAllTasksTab(1)).toBeNull();
    window.localStorage.setItem(allTasksKey(1), JSON.stringify({ rows: [], ordering: [] }));
    expect(storedAllTasksTab(1)).toBeNull();
    window.localStorage.setItem(allTasksKey(1), "null");
    expect(storedAllTasksTab(1)).toBeNull();
  });

  it("reads any conjunction other than 'or' as 'and'", () => {
    window.localStorage.setItem(allTasksKey(1), JSON.stringify({ ...TAB, conjunction: "xor" }));
    expect(storedAllTasksTab(1)?.conjunction).toBe("and");
  });

  it("carries on when storage refuses", () => {
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(() => {
      throw new Error("QuotaExceededError");
    });
    expect(() => storeAllTasksTab(1, TAB)).not.toThrow();
  });
});
