// Lists of values typed as text ("0.001, 0.003, 0.01" or "[], [{\"kind\": \"curl_field\"}]"). Pure, no DOM.

/**
 * Split text at the commas that are outside brackets, braces and double quotes:
 * `1, [2, 3], {"a": 1, "b": 2}` -> ["1", "[2, 3]", '{"a": 1, "b": 2}'] (items trimmed).
 * Returns {items} or {error} for unbalanced brackets or an unclosed string.
 */
export function splitTopLevel(text) {
  const items = [];
  const stack = [];
  let cur = "";
  let inString = false;
  const pairs = { "]": "[", "}": "{" };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      cur += c;
      if (c === "\\") {
        cur += text[i + 1] ?? "";
        i += 1;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") stack.push(c);
    else if (c === "]" || c === "}") {
      if (stack.pop() !== pairs[c]) return { error: `unbalanced ${c}` };
    } else if (c === "," && stack.length === 0) {
      items.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  if (inString) return { error: "unclosed string" };
  if (stack.length) return { error: `unclosed ${stack[stack.length - 1]}` };
  items.push(cur.trim());
  return { items };
}

/** One item: JSON where it parses ("3" -> 3, "true" -> true, "[1]" -> [1]), else the text itself. */
export function parseItem(item, type) {
  if (type === "string" && !/^".*"$/s.test(item)) return item; // a string field: "1" stays "1"
  try {
    return JSON.parse(item);
  } catch {
    return item;
  }
}

/**
 * Parse a comma-separated list of values, each as JSON where possible. `type` (the field's form
 * type: "number", "integer", "boolean", "string", ...) checks the items when it is known.
 * Returns {values} or {error}; an empty text or an empty item is an error.
 */
export function parseValueList(text, type) {
  const src = String(text ?? "").trim();
  if (!src) return { error: "enter at least one value" };
  const split = splitTopLevel(src);
  if (split.error) return { error: split.error };
  const values = [];
  for (const [i, item] of split.items.entries()) {
    if (!item) return { error: `value ${i + 1} is empty` };
    const v = parseItem(item, type);
    const bad = typeError(v, type);
    if (bad) return { error: `${item}: ${bad}` };
    values.push(v);
  }
  return { values };
}

function typeError(v, type) {
  if (type === "number" && (typeof v !== "number" || !Number.isFinite(v))) return "not a number";
  if (type === "integer" && !Number.isInteger(v)) return "not an integer";
  if (type === "boolean" && typeof v !== "boolean") return "not true or false";
  return null;
}

/** Values back as text ("0.001, 0.01"; strings bare unless they contain a comma or a quote). */
export function formatValueList(values) {
  return values.map(formatItem).join(", ");
}

/** A value as a list item shows it. */
export function formatItem(v) {
  if (typeof v === "string") return /[,"[\]{}]/.test(v) || v.trim() !== v || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}
