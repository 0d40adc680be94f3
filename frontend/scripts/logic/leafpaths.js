// The leaf fields of a spec as dotted paths, from its form model (logic/schema.js formModel) and a
// value of it: what an experiment can sweep ("train.lr", "task.perturbations.0.gain"). Pure, no DOM.

const LEAF_TYPES = new Set(["number", "integer", "string", "boolean", "enum", "const", "numberArray", "numberOrArray", "stringArray", "enumArray", "json"]);

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Every leaf path of `model` (a form model node) that `value` (a spec of it) reaches:
 * [{path, type, value, title, description, min, max, options}] in schema order.
 *
 * Objects give their fields; a union the fields of the variant `value` has (by its discriminator;
 * every variant's when `value` names none); an array of objects one entry per item `value` holds
 * (`task.perturbations.0.gain`) and the array itself as a leaf (swept as whole lists, e.g.
 * `[], [{"kind": "curl_field"}]`). Discriminators (`kind`) are left out: changing one replaces the
 * variant, which a dotted-path sweep of the whole object does better.
 */
export function leafPaths(model, value, prefix = "", out = []) {
  if (!model) return out;
  if (model.type === "object") {
    for (const f of model.fields) {
      const v = isObject(value) ? value[f.key] : undefined;
      leafPaths(f.node, v, prefix ? `${prefix}.${f.key}` : f.key, out);
    }
    return out;
  }
  if (model.type === "union") {
    const key = isObject(value) ? value[model.discriminator] : undefined;
    const variants = model.variants[key] ? [model.variants[key]] : Object.values(model.variants);
    const seen = new Set(out.map((e) => e.path));
    for (const variant of variants) {
      const fields = variant.fields.filter((f) => f.key !== model.discriminator);
      for (const e of leafPaths({ ...variant, fields }, value, prefix)) {
        if (!seen.has(e.path)) {
          seen.add(e.path);
          out.push(e);
        }
      }
    }
    return out;
  }
  if (model.type === "array") {
    out.push(entry(model, value, prefix, "array"));
    if (Array.isArray(value)) value.forEach((item, i) => leafPaths(model.items, item, `${prefix}.${i}`, out));
    return out;
  }
  if (LEAF_TYPES.has(model.type) && model.type !== "const") out.push(entry(model, value, prefix, model.type));
  return out;
}

function entry(node, value, path, type) {
  const e = { path, type, value: value === undefined ? node.default : value };
  for (const k of ["title", "description", "min", "max", "exclusiveMin", "exclusiveMax", "options"]) if (node[k] !== undefined) e[k] = node[k];
  if (node.nullable) e.nullable = true;
  return e;
}

/**
 * Filter leaves by a search text: every whitespace-separated word must occur in the path (or the
 * title); paths that start with the text come first. An empty query keeps everything.
 */
export function searchLeaves(leaves, query, limit = 50) {
  const q = String(query ?? "").trim().toLowerCase();
  if (!q) return leaves.slice(0, limit);
  const words = q.split(/\s+/);
  const hits = leaves.filter((e) => {
    const hay = `${e.path} ${e.title ?? ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const rank = (e) => (e.path.toLowerCase().startsWith(q) ? 0 : e.path.toLowerCase().split(".").some((s) => s.startsWith(words[0])) ? 1 : 2);
  return hits.sort((a, b) => rank(a) - rank(b)).slice(0, limit);
}
