// Parameter columns of the runs table: dotted spec paths chosen by the user, kept in the URL
// (`cols=effector.name,train.lr`), and each run's value at a path. Pure, no DOM.

/** Paths offered first (any other dotted path of a RunSpec can be typed). */
export const SUGGESTED_COLUMNS = ["effector.name", "task.kind", "policy.kind", "policy.hidden_size", "train.lr", "train.batch_size", "train.seed", "train.n_iterations"];

/** The URL's `cols` value as a list of distinct, well-formed dotted paths (others dropped). */
export function parseColumns(text) {
  const out = [];
  for (const raw of String(text ?? "").split(",")) {
    const p = raw.trim();
    if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(p) && !out.includes(p)) out.push(p);
  }
  return out;
}

/** The value at a dotted path of a JSON value (array items by index), `undefined` when absent. */
export function valueAt(spec, path) {
  let v = spec;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = v[key];
  }
  return v;
}

/** A cell's text: numbers as given (no rounding of a learning rate), objects as JSON, "—" when absent. */
export function cellText(v) {
  if (v === undefined || v === null) return "—";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Where a run trained, from its REST `node` and `device`: "ray 10.0.0.7 (1a2b3c4d) · cuda", "—" before its worker reported. */
export function placementText(run) {
  const parts = [run?.node, run?.device].filter((p) => typeof p === "string" && p.length);
  return parts.length ? parts.join(" · ") : "—";
}
