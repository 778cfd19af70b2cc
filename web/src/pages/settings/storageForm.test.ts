import { describe, expect, it } from "vitest";

import type { Storage } from "../../api/storages";
import { createBody, fieldsFor, initialValues, isRunning, patchBody, syncProgress, validateBody } from "./storageForm";

function s3Source(overrides: Partial<Storage> = {}): Storage {
  return {
    id: 7,
    type: "s3",
    project: 3,
    status: "completed",
    created_at: "2026-12-05T10:00:00Z",
    title: "Photos",
    description: "",
    last_sync: null,
    last_sync_count: null,
    last_sync_job: null,
    meta: {},
    synchronizable: true,
    traceback: null,
    bucket: "photos",
    prefix: "2026/",
    regex_filter: ".*\\.jpg",
    use_blob_urls: true,
    region_name: "eu-west-1",
    s3_endpoint: null,
    aws_sse_kms_key_id: null,
    recursive_scan: false,
    presign: true,
    presign_ttl: 1,
    ...overrides,
  };
}

describe("storage form fields", () => {
  it("offers each direction only its own fields", () => {
    const source = fieldsFor("s3", "import").map((field) => field.name);
    const target = fieldsFor("s3", "export").map((field) => field.name);
    expect(source).toContain("presign_ttl");
    expect(source).toContain("use_blob_urls");
    expect(source).not.toContain("can_delete_objects");
    expect(target).toContain("can_delete_objects");
    expect(target).not.toContain("presign");
  });

  it("starts Redis sources in database 1 and targets in database 2, as Label Studio does", () => {
    expect(initialValues("redis", "import").db).toBe(1);
    expect(initialValues("redis", "export").db).toBe(2);
  });
});

describe("create and validate bodies", () => {
  it("leaves out blanks and sends numbers as numbers", () => {
    const values = { ...initialValues("s3", "import"), bucket: " photos ", presign_ttl: "15", prefix: "" };
    const body = createBody("s3", "import", values, 3);
    expect(body).toMatchObject({ project: 3, bucket: "photos", presign_ttl: 15, presign: true, use_blob_urls: false });
    expect(body).not.toHaveProperty("prefix");
    expect(body).not.toHaveProperty("aws_secret_access_key");
  });

  it("names the saved storage when checking an edited one, so blank secrets mean the saved ones", () => {
    const storage = s3Source();
    const values = initialValues("s3", "import", storage);
    const body = validateBody("s3", "import", values, 3, storage);
    expect(body.id).toBe(7);
    expect(body.bucket).toBe("photos");
    expect(body).not.toHaveProperty("aws_access_key_id");
    expect(validateBody("s3", "import", values, 3)).not.toHaveProperty("id");
  });
});

describe("edit", () => {
  it("starts from the storage's values with every credential blank, even a masked one", () => {
    const values = initialValues("s3", "import", s3Source({ aws_access_key_id: "AKIA****", aws_secret_access_key: "****" }));
    expect(values).toMatchObject({ title: "Photos", bucket: "photos", prefix: "2026/", s3_endpoint: "", presign_ttl: "1" });
    expect(values.aws_access_key_id).toBe("");
    expect(values.aws_secret_access_key).toBe("");
  });

  it("patches only what changed, and a credential only when one was typed", () => {
    const storage = s3Source();
    const untouched = initialValues("s3", "import", storage);
    expect(patchBody("s3", "import", untouched, storage)).toEqual({});

    const edited = { ...untouched, prefix: "", regex_filter: ".*\\.png", presign_ttl: "30", aws_secret_access_key: "new-secret" };
    expect(patchBody("s3", "import", edited, storage)).toEqual({
      prefix: "",
      regex_filter: ".*\\.png",
      presign_ttl: 30,
      aws_secret_access_key: "new-secret",
    });
  });

  it("patches an unchecked checkbox as false", () => {
    const storage = s3Source();
    const values = { ...initialValues("s3", "import", storage), use_blob_urls: false };
    expect(patchBody("s3", "import", values, storage)).toEqual({ use_blob_urls: false });
  });
});

describe("sync progress", () => {
  it("counts what this sync reported so far", () => {
    const running = s3Source({
      status: "in_progress",
      last_sync_count: 120,
      meta: { time_in_progress: "2026-12-05T10:00:00Z", time_last_ping: "2026-12-05T10:00:05Z", tasks_existed: 30 },
    });
    expect(isRunning(running)).toBe(true);
    expect(syncProgress(running)).toEqual({ startedAt: "2026-12-05T10:00:00Z", created: 120, existed: 30 });
  });

  it("shows no counts before the first report, since they are still the previous sync's", () => {
    const justStarted = s3Source({
      status: "in_progress",
      last_sync_count: 5000,
      meta: { time_in_progress: "2026-12-05T10:00:00Z", time_last_ping: "2026-12-05T10:00:00Z", tasks_existed: 7 },
    });
    expect(syncProgress(justStarted)).toEqual({ startedAt: "2026-12-05T10:00:00Z", created: null, existed: null });
  });

  it("treats a queued sync as running, and ignores values that are not counts", () => {
    const queued = s3Source({ status: "queued", last_sync_count: null, meta: { tasks_existed: -1 } });
    expect(isRunning(queued)).toBe(true);
    expect(syncProgress(queued)).toEqual({ startedAt: null, created: null, existed: null });
    expect(isRunning(s3Source({ status: "failed" }))).toBe(false);
  });
});
