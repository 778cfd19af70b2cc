import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { api, ApiError, apiResponse, UNAUTHENTICATED_EVENT, withQuery } from "./client";

/** Stubs `fetch` with one answer and returns the stub, to read what was sent. */
function answer(body: BodyInit | null, init: ResponseInit = {}) {
  const fetchStub = vi.fn<(input: string, init: RequestInit) => Promise<Response>>(
    async () => new Response(body, init),
  );
  vi.stubGlobal("fetch", fetchStub);
  return fetchStub;
}

function json(value: unknown, status = 200) {
  return answer(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}

interface Sent {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
}

function sent(fetchStub: ReturnType<typeof answer>): Sent {
  expect(fetchStub).toHaveBeenCalledTimes(1);
  const [url, init] = fetchStub.mock.calls[0];
  return { url, init, headers: init.headers as Record<string, string> };
}

function setCookies(...cookies: string[]) {
  for (const cookie of cookies) document.cookie = `${cookie}; path=/`;
}

function clearCookies() {
  for (const part of document.cookie.split("; ")) {
    const name = part.split("=")[0];
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

beforeEach(clearCookies);
afterEach(clearCookies);

describe("requests", () => {
  it("sends a GET with the session cookie and JSON accepted, and no CSRF header", async () => {
    setCookies("csrftoken=secret");
    const fetchStub = json({ id: 1 });
    await expect(api("/api/projects/1")).resolves.toEqual({ id: 1 });
    const { url, init, headers } = sent(fetchStub);
    expect(url).toBe("/api/projects/1");
    expect(init.method).toBe("GET");
    expect(init.credentials).toBe("same-origin");
    expect(init.body).toBeUndefined();
    expect(headers).toEqual({ Accept: "application/json" });
  });

  it("sends a plain object as JSON with the CSRF token from the cookie", async () => {
    setCookies("sessionid=abc", "csrftoken=tok%2Fen");
    const fetchStub = json({ id: 7 }, 201);
    await api("/api/projects", { body: { title: "New" } });
    const { init, headers } = sent(fetchStub);
    // A body without a method is a POST.
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"title":"New"}');
    expect(headers["Content-Type"]).toBe("application/json");
    expect(headers["X-CSRFToken"]).toBe("tok/en");
  });

  it.each(["PUT", "PATCH", "DELETE", "post", "delete"])("sends the CSRF header on %s", async (method) => {
    setCookies("csrftoken=secret");
    const fetchStub = answer(null, { status: 204 });
    await api("/api/thing", { method });
    const { init, headers } = sent(fetchStub);
    expect(init.method).toBe(method.toUpperCase());
    expect(headers["X-CSRFToken"]).toBe("secret");
  });

  it("sends no CSRF header when there is no csrftoken cookie", async () => {
    setCookies("sessionid=abc", "notcsrftoken=x");
    const fetchStub = answer(null, { status: 204 });
    await api("/api/thing", { method: "DELETE" });
    expect(sent(fetchStub).headers).not.toHaveProperty("X-CSRFToken");
  });

  it("sends FormData as it is, leaving the content type to the browser", async () => {
    const form = new FormData();
    form.append("file", new Blob(["a,b\n"]), "tasks.csv");
    const fetchStub = json([]);
    await api("/api/projects/1/import", { body: form });
    const { init, headers } = sent(fetchStub);
    expect(init.body).toBe(form);
    expect(headers).not.toHaveProperty("Content-Type");
  });

  it("sends a Blob and a string as they are", async () => {
    const blob = new Blob(["<View/>"], { type: "application/xml" });
    let fetchStub = json({});
    await api("/api/validate", { method: "PUT", body: blob });
    expect(sent(fetchStub).init.body).toBe(blob);

    fetchStub = json({});
    await api("/api/validate", { body: "raw text" });
    const { init, headers } = sent(fetchStub);
    expect(init.body).toBe("raw text");
    expect(init.method).toBe("POST");
    expect(headers).not.toHaveProperty("Content-Type");
  });

  it("merges the caller's headers, which win over the defaults", async () => {
    const fetchStub = json({});
    await api("/api/export", { headers: { Accept: "text/csv", "X-Extra": "1" } });
    expect(sent(fetchStub).headers).toEqual({ Accept: "text/csv", "X-Extra": "1" });
  });

  it("adds the query to the path and passes the abort signal on", async () => {
    const controller = new AbortController();
    const fetchStub = json([]);
    await api("/api/tasks", {
      query: { project: 3, page: 2, fields: "all", skip: undefined, none: null },
      signal: controller.signal,
    });
    const { url, init } = sent(fetchStub);
    expect(url).toBe("/api/tasks?project=3&page=2&fields=all");
    expect(init.signal).toBe(controller.signal);
  });
});

describe("answers", () => {
  it("resolves a 204 to undefined without reading a body", async () => {
    answer(null, { status: 204 });
    await expect(api("/api/dm/views/1", { method: "DELETE" })).resolves.toBeUndefined();
  });

  it("resolves an empty 200 body to undefined", async () => {
    answer("", { status: 200 });
    await expect(api("/api/ping")).resolves.toBeUndefined();
  });

  it("parses a JSON body", async () => {
    json({ tasks: [{ id: 1 }], total: 1 });
    await expect(api("/api/tasks")).resolves.toEqual({ tasks: [{ id: 1 }], total: 1 });
  });

  it("gives the raw response for downloads", async () => {
    answer("id,text\n1,a\n", { status: 200, headers: { "Content-Type": "text/csv" } });
    const response = await apiResponse("/api/projects/1/export", { query: { exportType: "CSV" } });
    expect(response.headers.get("Content-Type")).toBe("text/csv");
    await expect(response.text()).resolves.toBe("id,text\n1,a\n");
  });
});

describe("errors", () => {
  it("turns Label Studio's error body into an ApiError naming the fields", async () => {
    json(
      {
        status_code: 400,
        detail: "Validation error",
        validation_errors: { title: ["This field may not be blank."], non_field_errors: ["Pick a template."] },
      },
      400,
    );
    const error = await api("/api/projects", { body: { title: "" } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.name).toBe("ApiError");
    expect(apiError.status).toBe(400);
    expect(apiError.message).toBe("Validation error");
    expect(apiError.fieldErrors).toEqual({
      title: ["This field may not be blank."],
      non_field_errors: ["Pick a template."],
    });
    // Field errors name their field; errors about the whole form do not.
    expect(apiError.messages()).toEqual(["title: This field may not be blank.", "Pick a template."]);
  });

  it("lists every reason of a field", async () => {
    json({ detail: "Validation error", validation_errors: { email: ["Enter a valid email.", "Too long."] } }, 400);
    const error = (await api("/user/signup", { body: {} }).catch((caught: unknown) => caught)) as ApiError;
    expect(error.messages()).toEqual(["email: Enter a valid email.", "email: Too long."]);
  });

  it("uses the detail alone when there are no field errors", async () => {
    json({ detail: "Not found.", validation_errors: null }, 404);
    const error = (await api("/api/projects/9").catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(404);
    expect(error.fieldErrors).toEqual({});
    expect(error.messages()).toEqual(["Not found."]);
  });

  it("falls back to the method, path and status when the body is not JSON", async () => {
    answer("<html>Bad gateway</html>", { status: 502 });
    const error = (await api("/api/tasks", { method: "patch", query: { page: 2 } }).catch(
      (caught: unknown) => caught,
    )) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.message).toBe("PATCH /api/tasks failed (502)");
    expect(error.messages()).toEqual(["PATCH /api/tasks failed (502)"]);
  });

  it("falls back when the JSON body has no detail", async () => {
    json({}, 500);
    const error = (await apiResponse("/api/x").catch((caught: unknown) => caught)) as ApiError;
    expect(error.message).toBe("GET /api/x failed (500)");
  });

  it("announces a 401 on window, and still throws", async () => {
    const listener = vi.fn();
    window.addEventListener(UNAUTHENTICATED_EVENT, listener);
    try {
      json({ detail: "Authentication credentials were not provided." }, 401);
      await expect(api("/api/current-user/whoami")).rejects.toMatchObject({ status: 401 });
      expect(listener).toHaveBeenCalledTimes(1);

      json({ detail: "Forbidden" }, 403);
      await expect(api("/api/projects")).rejects.toMatchObject({ status: 403 });
      expect(listener).toHaveBeenCalledTimes(1);
    } finally {
      window.removeEventListener(UNAUTHENTICATED_EVENT, listener);
    }
  });
});

describe("withQuery", () => {
  it("leaves the path alone without a query or with nothing in it", () => {
    expect(withQuery("/api/tasks")).toBe("/api/tasks");
    expect(withQuery("/api/tasks", {})).toBe("/api/tasks");
    expect(withQuery("/api/tasks", { a: undefined, b: null })).toBe("/api/tasks");
  });

  it("encodes values and appends to a path that has a query already", () => {
    expect(withQuery("/api/tasks?project=1", { query: '{"a":1}', flag: false, zero: 0 })).toBe(
      "/api/tasks?project=1&query=%7B%22a%22%3A1%7D&flag=false&zero=0",
    );
  });
});
