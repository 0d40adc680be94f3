// Hash routes: "#/page?key=value&..." <-> {page, params}. Pure functions, no DOM.

export const PAGES = ["home", "effector", "task", "runs", "run", "playground", "studies", "experiments", "experiment-new", "experiment"];

/**
 * Pages addressed by a path below another: "#/experiments/new" is the experiment designer,
 * "#/experiments/12" experiment 12's page (params.id), "#/runs/5" run 5's page.
 */
function subPage(path) {
  const m = /^(experiments|runs)\/([^/]+)$/.exec(path);
  if (!m) return null;
  if (m[1] === "experiments" && m[2] === "new") return { page: "experiment-new", params: {} };
  if (!/^\d+$/.test(m[2])) return null;
  return { page: m[1] === "experiments" ? "experiment" : "run", params: { id: m[2] } };
}

/** Parse a location hash ("#/run?id=3&snap=2") into {page, params}. Unknown pages fall back to home. */
export function parseHash(hash) {
  const raw = (hash || "").replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? "" : raw.slice(q + 1);
  const sub = subPage(path);
  const page = sub ? sub.page : PAGES.includes(path) && path !== "experiment-new" && path !== "experiment" ? path : "home";
  const params = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  return { page, params: { ...params, ...(sub?.params ?? {}) } };
}

/** The hash path of a page: the experiment pages live below "experiments/". */
function pagePath(page, params) {
  if (page === "experiment-new") return ["experiments/new", params];
  if (page === "experiment" && params.id !== undefined && params.id !== null && params.id !== "") {
    const { id, ...rest } = params;
    return [`experiments/${id}`, rest];
  }
  return [page, params];
}

/** Format {page, params} into a hash; empty/null params are dropped and keys sorted for stable links. */
export function formatHash(pageName, allParams = {}) {
  const [page, params] = pagePath(pageName, allParams);
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
