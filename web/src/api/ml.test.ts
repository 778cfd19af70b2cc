import { describe, expect, it } from "vitest";

import { isJobFinished, queuedJobOf } from "./ml";
import type { PredictionJob } from "./ml";
import { backendInput } from "../pages/settings/MlBackendDialog";

const form = {
  title: "  Sentiment  ",
  url: " http://ml:9090 ",
  description: "",
  is_interactive: false,
  auth_method: "NONE" as const,
  basic_auth_user: "someone",
  basic_auth_pass: "",
  timeout: "",
  extra_params: "",
};

describe("queuedJobOf", () => {
  it("reads the job and backend a prediction action queued", () => {
    expect(queuedJobOf({ processed_items: 3, detail: "…", job: 7, ml_backend: 2 })).toEqual({ backendId: 2, jobId: 7 });
  });

  it("is null for actions that queue nothing", () => {
    expect(queuedJobOf({ processed_items: 3, detail: "Deleted 3 tasks" })).toBeNull();
    expect(queuedJobOf({ job: null, ml_backend: null })).toBeNull();
    expect(queuedJobOf(null)).toBeNull();
  });
});

describe("isJobFinished", () => {
  const job = (status: string) => ({ status }) as PredictionJob;
  it("is true only for the final states", () => {
    expect(["queued", "running"].map((s) => isJobFinished(job(s)))).toEqual([false, false]);
    expect(["succeeded", "failed", "cancelled"].map((s) => isJobFinished(job(s)))).toEqual([true, true, true]);
  });
});

describe("backendInput", () => {
  it("trims, leaves out blank optional fields and never sends credentials without basic auth", () => {
    expect(backendInput(form, 4)).toEqual({
      project: 4,
      url: "http://ml:9090",
      title: "Sentiment",
      description: "",
      is_interactive: false,
      auth_method: "NONE",
      extra_params: null,
    });
  });

  it("keeps a stored password when the field is left blank, and sends a new one", () => {
    const basic = { ...form, auth_method: "BASIC_AUTH" as const, timeout: "30", extra_params: '{"a": 1}' };
    expect(backendInput(basic, 4)).toMatchObject({ basic_auth_user: "someone", timeout: 30, extra_params: '{"a": 1}' });
    expect(backendInput(basic, 4)).not.toHaveProperty("basic_auth_pass");
    expect(backendInput({ ...basic, basic_auth_pass: "new-secret" }, 4).basic_auth_pass).toBe("new-secret");
  });
});

describe("jobSummary", () => {
  it("names what happened to the tasks, leaving out what did not", async () => {
    const { jobSummary } = await import("../ml/PredictionJobProgress");
    const job = { predicted: 1200, skipped: 0, failed: 0 } as PredictionJob;
    expect(jobSummary(job)).toBe("1,200 predicted");
    expect(jobSummary({ ...job, skipped: 30, failed: 2 })).toBe("1,200 predicted · 30 already had one · 2 failed");
  });
});
