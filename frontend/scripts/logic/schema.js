// JSON schema (pydantic v2 model_json_schema) -> form model, defaults and value helpers. Pure.
//
// A form model node is one of:
//   {type: "object", fields: [{key, node, required}]}
//   {type: "union", discriminator, options: [value], variants: {value: objectNode}}
//   {type: "number"|"integer", min, max, exclusiveMin, exclusiveMax}
//   {type: "string"} | {type: "boolean"} | {type: "enum", options} | {type: "const", value}
//   {type: "numberArray", minItems, maxItems} | {type: "array", items: node, minItems, maxItems}
//   {type: "numberOrArray", min, ...} (a scalar or one value per item) | {type: "stringArray"}
//   {type: "json"} (anything else, edited as JSON text)
// and carries title, description, default (when the schema has one) and nullable.

const MAX_DEPTH = 24;

function refName(ref) {
  return ref.split("/").pop();
}

/** Resolve a "#/$defs/Name" reference against the root schema (one level). */
export function resolveRef(schema, root) {
  if (!schema || !schema.$ref) return schema;
  const target = root.$defs?.[refName(schema.$ref)] ?? root.definitions?.[refName(schema.$ref)];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  const { $ref, ...rest } = schema;
  return { ...target, ...rest };
}

function common(schema, extra = {}) {
  const out = { ...extra };
  if (schema.title !== undefined) out.title = schema.title;
  if (schema.description !== undefined) out.description = schema.description;
  if (schema.default !== undefined) out.default = schema.default;
  return out;
}

function literalValue(schema) {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length === 1) return schema.enum[0];
  return undefined;
}

function variantKey(variant, discriminator) {
  const prop = variant.fields?.find((f) => f.key === discriminator);
  if (!prop) return undefined;
  if (prop.node.type === "const") return prop.node.value;
  if (prop.node.type === "enum" && prop.node.options.length === 1) return prop.node.options[0];
  return prop.node.default;
}

function buildUnion(schema, alts, root, depth) {
  const nonNull = alts.filter((a) => a.type !== "null");
  const nullable = nonNull.length < alts.length;
  if (nonNull.length === 1) {
    const node = buildNode({ ...nonNull[0] }, root, depth + 1);
    return { ...node, ...common(schema), nullable: nullable || node.nullable || false };
  }
  const discriminator = schema.discriminator?.propertyName ?? "kind";
  const built = nonNull.map((a) => buildNode(a, root, depth + 1));
  const types = new Set(built.map((b) => (b.type === "integer" ? "number" : b.type)));
  if (types.size === 2 && types.has("number") && types.has("numberArray")) {
    const num = built.find((b) => b.type === "number" || b.type === "integer");
    const bounds = {};
    for (const k of ["min", "max", "exclusiveMin", "exclusiveMax"]) if (num[k] !== undefined) bounds[k] = num[k];
    return common(schema, { type: "numberOrArray", ...bounds, nullable });
  }
  if (built.every((b) => b.type === "object" && variantKey(b, discriminator) !== undefined)) {
    const variants = {};
    for (const b of built) variants[variantKey(b, discriminator)] = b;
    return common(schema, { type: "union", discriminator, options: Object.keys(variants), variants, nullable });
  }
  return common(schema, { type: "json", nullable });
}

/** Build the form model of a (sub)schema. `root` holds $defs. */
export function buildNode(schemaIn, root, depth = 0) {
  if (depth > MAX_DEPTH) return { type: "json" };
  let schema = resolveRef(schemaIn, root);
  if (schema.allOf && schema.allOf.length === 1) {
    const { allOf, ...rest } = schema;
    schema = { ...resolveRef(allOf[0], root), ...rest };
  }
  const alts = schema.oneOf ?? schema.anyOf;
  if (alts) return buildUnion(schema, alts.map((a) => resolveRef(a, root)), root, depth);
  const lit = literalValue(schema);
  if (lit !== undefined) return common(schema, { type: "const", value: lit });
  if (Array.isArray(schema.enum)) return common(schema, { type: "enum", options: schema.enum.slice() });
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
  if (t === "number" || t === "integer") {
    const n = common(schema, { type: t });
    if (schema.minimum !== undefined) n.min = schema.minimum;
    if (schema.maximum !== undefined) n.max = schema.maximum;
    if (schema.exclusiveMinimum !== undefined) n.exclusiveMin = schema.exclusiveMinimum;
    if (schema.exclusiveMaximum !== undefined) n.exclusiveMax = schema.exclusiveMaximum;
    return n;
  }
  if (t === "string") return common(schema, { type: "string" });
  if (t === "boolean") return common(schema, { type: "boolean" });
  if (t === "array") {
    const items = schema.items ? buildNode(schema.items, root, depth + 1) : { type: "json" };
    const extra = {};
    if (schema.minItems !== undefined) extra.minItems = schema.minItems;
    if (schema.maxItems !== undefined) extra.maxItems = schema.maxItems;
    if (items.type === "number" || items.type === "integer") return common(schema, { type: "numberArray", ...extra });
    if (items.type === "string") return common(schema, { type: "stringArray", ...extra });
    if (items.type === "enum" && items.options.every((o) => typeof o === "string")) return common(schema, { type: "enumArray", options: items.options, ...extra });
    return common(schema, { type: "array", items, ...extra });
  }
  if (t === "object" || schema.properties) {
    if (!schema.properties) return common(schema, { type: "json" });
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties).map(([key, sub]) => ({
      key,
      node: buildNode(sub, root, depth + 1),
      required: required.has(key),
    }));
    return common(schema, { type: "object", fields });
  }
  return common(schema, { type: "json" });
}

/** Form model of a whole root schema. */
export function formModel(rootSchema) {
  return buildNode(rootSchema, rootSchema, 0);
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** A plausible value for a number without a default: inside its bounds, 0.1 when unbounded. */
function numberFallback(node) {
  const lo = node.min ?? node.exclusiveMin;
  const hi = node.max ?? node.exclusiveMax;
  let v = node.type === "integer" ? 1 : 0.1;
  if (lo !== undefined && v <= lo) v = node.min !== undefined ? lo : lo + (node.type === "integer" ? 1 : 0.1);
  if (hi !== undefined && v >= hi) v = node.max !== undefined ? hi : hi - (node.type === "integer" ? 1 : 0.1);
  return v;
}

/** Default value for a node (schema default, else a plausible value for required parts). */
export function defaultValue(node) {
  if (node.default !== undefined) return clone(node.default);
  if (node.nullable) return null;
  switch (node.type) {
    case "object": {
      const out = {};
      for (const f of node.fields) {
        const structured = f.node.type === "object" && !f.node.nullable;
        if (f.node.default !== undefined || f.required || f.node.type === "const" || structured) out[f.key] = defaultValue(f.node);
      }
      return out;
    }
    case "union":
      return defaultValue(node.variants[node.options[0]]);
    case "const":
      return node.value;
    case "enum":
      return node.options[0];
    case "number":
    case "integer":
      return numberFallback(node);
    case "string":
      return "";
    case "boolean":
      return false;
    case "numberArray":
      return new Array(node.minItems ?? 0).fill(0);
    case "numberOrArray":
      return numberFallback(node);
    case "stringArray":
      return [];
    case "enumArray":
      return node.options.slice(0, node.minItems ?? 0);
    case "array":
      return Array.from({ length: node.minItems ?? 0 }, () => defaultValue(node.items));
    default:
      return null;
  }
}

/** The variant of a union node that a value belongs to (by its discriminator; first when unknown). */
export function variantOf(union, value) {
  const key = value && typeof value === "object" ? value[union.discriminator] : undefined;
  return union.variants[key] ? key : union.options[0];
}

/**
 * Switch a value of a union to another variant: keeps the fields the new variant shares with the
 * old value, fills the rest with defaults.
 */
export function convertVariant(union, value, newKey) {
  const variant = union.variants[newKey];
  if (!variant) throw new Error(`unknown ${union.discriminator} ${newKey}`);
  const out = defaultValue(variant);
  const old = value && typeof value === "object" ? value : {};
  const oldVariant = union.variants[old[union.discriminator]];
  for (const f of variant.fields) {
    if (f.key === union.discriminator) continue;
    if (old[f.key] === undefined) continue;
    const oldField = oldVariant?.fields.find((g) => g.key === f.key);
    const oldHadDefault = oldField && oldField.node.default !== undefined;
    const sameDefault = oldHadDefault && JSON.stringify(oldField.node.default) === JSON.stringify(old[f.key]);
    // A value the user never changed from the old model's default takes the new model's default.
    if (sameDefault && f.node.default !== undefined) continue;
    out[f.key] = clone(old[f.key]);
  }
  out[union.discriminator] = newKey;
  return out;
}

/** Split a dotted path ("muscles.2.name") into keys, numbers for array indices. */
export function splitPath(path) {
  if (path === "" || path === undefined || path === null) return [];
  if (Array.isArray(path)) return path;
  return String(path)
    .split(".")
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** Immutably set a value at a path, creating objects/arrays on the way. */
export function setAt(obj, path, value) {
  const keys = splitPath(path);
  if (keys.length === 0) return value;
  const [k, ...rest] = keys;
  const base = obj === null || obj === undefined ? (typeof k === "number" ? [] : {}) : obj;
  const copy = Array.isArray(base) ? base.slice() : { ...base };
  copy[k] = setAt(base[k], rest, value);
  return copy;
}

/** Parse "1, 2.5, -3" into numbers; returns {values} or {error}. */
export function parseNumberList(text) {
  const parts = String(text)
    .split(/[,\s]+/)
    .filter((s) => s.length > 0);
  const values = parts.map(Number);
  const bad = parts.find((p, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) return { error: `not a number: ${bad}` };
  return { values };
}

/**
 * A number as a form shows it: at most `digits` significant digits, no float noise
 * (2.443460952792061 -> "2.44346", 0.1 + 0.2 -> "0.3"); integers and short decimals unchanged.
 */
export function displayNumber(x, digits = 6) {
  if (x === null || x === undefined || x === "") return "";
  const v = Number(x);
  if (!Number.isFinite(v)) return String(x);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(digits)));
}

/** A list of numbers as a form shows it ("2.44346, 2.79253"). */
export function displayNumberList(values, digits = 6) {
  return values.map((v) => displayNumber(v, digits)).join(", ");
}

/**
 * Parse an edited list of numbers, keeping the exact original value wherever the text still shows
 * it as displayNumber rendered it (so editing one entry does not round the others).
 * Returns {values} or {error} like parseNumberList.
 */
export function parseNumberListKeeping(text, original, digits = 6) {
  const parsed = parseNumberList(text);
  if (parsed.error || !Array.isArray(original)) return parsed;
  const parts = String(text).split(/[,\s]+/).filter((s) => s.length > 0);
  return {
    values: parsed.values.map((v, i) => (i < original.length && Number.isFinite(original[i]) && parts[i] === displayNumber(original[i], digits) ? original[i] : v)),
  };
}

/** Describe a number's bounds for help text ("> 0", "0 … 1"). */
export function boundsText(node) {
  const lo = node.min !== undefined ? `≥ ${node.min}` : node.exclusiveMin !== undefined ? `> ${node.exclusiveMin}` : "";
  const hi = node.max !== undefined ? `≤ ${node.max}` : node.exclusiveMax !== undefined ? `< ${node.exclusiveMax}` : "";
  return [lo, hi].filter(Boolean).join(", ");
}

/** Human label from a key ("max_iso_force" -> "max iso force"). */
export function labelFor(key) {
  return String(key).replace(/_/g, " ");
}

/**
 * Assign validation errors to rendered field paths. Each error goes to the longest rendered path
 * that is a prefix of its loc (so "pos_upper_bound.1" lands on the "pos_upper_bound" field);
 * errors with no such path are returned under "".
 */
export function assignErrors(errors, paths) {
  const sorted = [...paths].sort((a, b) => b.length - a.length);
  const out = {};
  for (const e of errors) {
    const loc = Array.isArray(e.loc) ? e.loc.join(".") : String(e.loc ?? "");
    const hit = sorted.find((p) => p !== "" && (loc === p || loc.startsWith(p + ".")));
    const key = hit ?? "";
    (out[key] ??= []).push({ ...e, loc });
  }
  return out;
}

/**
 * Drop the union tags pydantic puts into error locations ("skeleton.two_link_arm.L1" ->
 * "skeleton.L1", "task.action_noise.list[float].1" -> "task.action_noise.1") by walking the model.
 */
export function normalizeLoc(model, loc) {
  const segs = (Array.isArray(loc) ? loc.map(String) : String(loc ?? "").split(".")).filter((s) => s !== "");
  const out = [];
  let node = model;
  for (const seg of segs) {
    if (node && node.type === "union") {
      if (node.variants[seg]) {
        node = node.variants[seg];
        continue;
      }
      node = Object.values(node.variants).find((v) => v.fields.some((f) => f.key === seg)) ?? null;
    }
    if (!node) {
      out.push(seg);
      continue;
    }
    if (node.type === "object") {
      const f = node.fields.find((x) => x.key === seg);
      out.push(seg);
      node = f ? f.node : null;
    } else if (node.type === "array") {
      out.push(seg);
      node = /^\d+$/.test(seg) ? node.items : null;
    } else if (/^\d+$/.test(seg)) {
      out.push(seg);
      node = null;
    } else if (node.type === "json") {
      out.push(seg);
      node = null;
    }
    // any other leaf: a tag such as "list[float]" or "float": dropped
  }
  return out.join(".");
}
