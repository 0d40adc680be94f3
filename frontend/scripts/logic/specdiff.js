// Specs as flat {dotted path: leaf value} maps, and the difference of two specs. Pure, no DOM.

/** True for a plain object (not an array, not null). */
function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Flatten a JSON value into {dotted path: leaf}: objects by key, arrays by index
 * ({"a": {"b": [1, 2]}} -> {"a.b.0": 1, "a.b.1": 2}). Empty objects and arrays are leaves themselves
 * (so a list that became empty still shows up in a diff); the root itself has the path "".
 */
export function flatten(value, prefix = "", out = {}) {
  const children = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : isObject(value) ? Object.entries(value) : null;
  if (!children || children.length === 0) {
    out[prefix] = value;
    return out;
  }
  for (const [k, v] of children) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** Deep equality of JSON values (object key order ignored). */
export function sameValue(a, b) {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}

/** Compare path strings so that numeric segments sort as numbers ("a.2" before "a.10"). */
export function comparePaths(p, q) {
  const a = p.split(".");
  const b = q.split(".");
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const na = /^\d+$/.test(a[i]);
    const nb = /^\d+$/.test(b[i]);
    if (na && nb) return Number(a[i]) - Number(b[i]);
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The leaves where two specs differ: [{path, a, b}] sorted by path. A leaf present on one side only
 * has `undefined` on the other. `ignore` lists path prefixes to leave out (e.g. ["name"]).
 */
export function specDiff(a, b, { ignore = [] } = {}) {
  const fa = flatten(a ?? {});
  const fb = flatten(b ?? {});
  const skip = (p) => ignore.some((x) => p === x || p.startsWith(`${x}.`));
  const paths = new Set([...Object.keys(fa), ...Object.keys(fb)]);
  const out = [];
  for (const path of paths) {
    if (skip(path)) continue;
    const va = Object.prototype.hasOwnProperty.call(fa, path) ? fa[path] : undefined;
    const vb = Object.prototype.hasOwnProperty.call(fb, path) ? fb[path] : undefined;
    if (!sameValue(va, vb)) out.push({ path, a: va, b: vb });
  }
  return out.sort((x, y) => comparePaths(x.path, y.path));
}

/** A leaf as a diff shows it: JSON, "—" when absent. */
export function showLeaf(v) {
  if (v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}
