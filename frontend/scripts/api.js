// REST client: JSON in and out, typed errors, and a server up/down signal for the banner.

/** Fired on `serverEvents`: "down" when a request cannot reach the server, "up" when one succeeds. */
export const serverEvents = new EventTarget();
let serverUp = true;

function setUp(up) {
  if (up !== serverUp) {
    serverUp = up;
    serverEvents.dispatchEvent(new Event(up ? "up" : "down"));
  }
}

/** An HTTP error with the server's detail message. */
export class ApiError extends Error {
  constructor(status, detail, body) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/**
 * Call the API: `api("/api/runs", {method: "POST", body: {...}})` -> parsed JSON (null for 204).
 * `raw` (a Blob or File) is sent as the body as it is, `application/octet-stream` (uploads).
 */
export async function api(path, { method = "GET", body, raw, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: raw !== undefined ? { "Content-Type": "application/octet-stream" } : body === undefined ? {} : { "Content-Type": "application/json" },
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    setUp(false);
    throw new ApiError(0, "cannot reach the server");
  }
  setUp(res.status < 500 || res.status >= 600 ? true : serverUp);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? data.detail : data || res.statusText;
    throw new ApiError(res.status, detail, data);
  }
  return data;
}

/** One-line message for an error from `api` (validation details flattened). */
export function errorMessage(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  const d = err.detail;
  if (Array.isArray(d)) return d.map((e) => `${Array.isArray(e.loc) ? e.loc.join(".") : e.loc}: ${e.msg}`).join("; ");
  if (d && typeof d === "object") return d.message ?? JSON.stringify(d);
  return err.status ? `${d} (HTTP ${err.status})` : String(d);
}

/** Validation errors carried by an error response, as [{loc, msg}] (empty when none). */
export function validationErrors(err) {
  if (!(err instanceof ApiError)) return [];
  const d = err.body?.errors ?? err.detail?.errors ?? err.detail;
  if (!Array.isArray(d)) return [];
  return d.filter((e) => e && e.loc !== undefined).map((e) => ({ ...e, loc: normLoc(e.loc) }));
}

function normLoc(loc) {
  const parts = Array.isArray(loc) ? loc.map(String) : String(loc).split(".");
  while (parts.length && (parts[0] === "body" || parts[0] === "spec")) parts.shift();
  return parts.join(".");
}

/** Check the server: resolves true when /api/health answers. */
export async function checkHealth() {
  try {
    await api("/api/health");
    setUp(true);
    return true;
  } catch {
    setUp(false);
    return false;
  }
}

let presetsCache = null;
let schemaCache = {};

/** Presets (cached for the session). */
export async function getPresets() {
  presetsCache ??= api("/api/presets").catch((e) => {
    presetsCache = null;
    throw e;
  });
  return presetsCache;
}

/** JSON schema of a spec kind (cached). */
export async function getSchema(kind) {
  schemaCache[kind] ??= api(`/api/schema/${kind}`).catch((e) => {
    delete schemaCache[kind];
    throw e;
  });
  return schemaCache[kind];
}

/** Items of a list response (the server may wrap lists as {items: [...]}). */
export function items(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}
