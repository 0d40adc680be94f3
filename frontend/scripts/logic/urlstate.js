// Hash routes: "#/page?key=value&..." <-> {page, params}. Pure functions, no DOM.

export const PAGES = ["home", "effector", "task", "runs", "run", "playground", "studies"];

/** Parse a location hash ("#/run?id=3&snap=2") into {page, params}. Unknown pages fall back to home. */
export function parseHash(hash) {
  const raw = (hash || "").replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? "" : raw.slice(q + 1);
  const page = PAGES.includes(path) ? path : "home";
  const params = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  return { page, params };
}

/** Format {page, params} into a hash; empty/null params are dropped and keys sorted for stable links. */
export function formatHash(page, params = {}) {
  const keys = Object.keys(params)
    .filter((k) => params[k] !== undefined && params[k] !== null && params[k] !== "")
    .sort();
  const qs = new URLSearchParams();
  for (const k of keys) qs.set(k, Array.isArray(params[k]) ? params[k].join(",") : String(params[k]));
  const s = qs.toString();
  return `#/${page}${s ? "?" + s : ""}`;
}

/** Return a new hash with some params replaced (null removes a key). */
export function updateHash(hash, changes) {
  const { page, params } = parseHash(hash);
  const next = { ...params };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === "") delete next[k];
    else next[k] = Array.isArray(v) ? v.join(",") : String(v);
  }
  return formatHash(page, next);
}

/** Split a comma-separated id list ("1,2,x,,3") into its non-empty items. */
export function parseList(value) {
  if (!value) return [];
  return String(value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
