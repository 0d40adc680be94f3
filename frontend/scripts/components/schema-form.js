// A form generated from a form model (logic/schema.js): one control per leaf, nested fieldsets for
// objects, a kind selector for discriminated unions, add/remove for arrays of objects.
// Data flows out through onChange(value, path); errors flow in through showErrors().

import { h } from "../dom.js";
import {
  boundsText,
  convertVariant,
  defaultValue,
  displayNumber,
  displayNumberList,
  labelFor,
  parseNumberListKeeping,
  setAt,
  variantOf,
} from "../logic/schema.js";

const join = (prefix, key) => (prefix === "" ? String(key) : `${prefix}.${key}`);

export class SchemaForm {
  /**
   * @param {HTMLElement} container
   * @param {object} model form model node (object or union)
   * @param {*} value current value
   * @param {{prefix?: string, omit?: string[], onChange?: Function, title?: string}} opts
   *   prefix: path of this value inside the whole spec (error locs and input names use full paths);
   *   omit: top-level keys not rendered (the page edits them elsewhere).
   */
  constructor(container, model, value, { prefix = "", omit = [], onChange = () => {} } = {}) {
    this.container = container;
    this.model = model;
    this.value = value;
    this.prefix = prefix;
    this.omit = new Set(omit);
    this.onChange = onChange;
    this.fields = new Map(); // full path -> {wrap, input, error}
    this.render();
  }

  /** Replace the value and re-render. */
  setValue(value) {
    this.value = value;
    this.render();
  }

  render() {
    this.fields.clear();
    const body = h("div", { class: "form" });
    this.renderNode(body, this.model, this.value, [], true);
    this.container.replaceChildren(body);
  }

  /** Full paths of every rendered field (for error assignment). */
  paths() {
    return [...this.fields.keys()];
  }

  /** Show errors: a map full path -> [{msg}] (from assignErrors); clears the others. */
  showErrors(byPath) {
    for (const [path, f] of this.fields) {
      const errs = byPath[path] ?? [];
      f.error.textContent = errs.map((e) => (e.loc !== path && e.loc ? `${e.loc.slice(path.length + 1)}: ${e.msg}` : e.msg)).join("; ");
      f.input?.classList.toggle("invalid", errs.length > 0);
      f.input?.setAttribute("aria-invalid", errs.length > 0 ? "true" : "false");
    }
  }

  emit(rel, v) {
    this.value = setAt(this.value, rel, v);
    this.onChange(this.value, join(this.prefix, rel.join(".")));
  }

  field(parent, rel, key, node, control) {
    const path = join(this.prefix, rel.join("."));
    const help = [node.description, boundsText(node)].filter(Boolean).join(" · ");
    const error = h("div", { class: "field-error", "data-error-for": path });
    const wrap = h(
      "div",
      { class: "field", "data-path": path },
      h("label", { for: `f-${path}`, title: path }, labelFor(key)),
      h("div", { class: "control" }, control, help ? h("span", { class: "help" }, help) : null, error)
    );
    control.id = `f-${path}`;
    control.name = path;
    this.fields.set(path, { wrap, input: control, error });
    parent.append(wrap);
  }

  renderNode(parent, node, value, rel, top = false) {
    if (node.type === "union") return this.renderUnion(parent, node, value, rel, top);
    if (node.type === "object") return this.renderObject(parent, node, value ?? {}, rel, top);
    return null;
  }

  renderObject(parent, node, value, rel, top) {
    // The name first, plain fields in schema order, nested groups and lists after them.
    const nested = (f) => ["object", "union", "array"].includes(f.node.type);
    const rank = (f) => (f.key === "name" ? 0 : nested(f) ? 2 : 1);
    const ordered = [...node.fields].sort((a, b) => rank(a) - rank(b));
    for (const f of ordered) {
      if (top && this.omit.has(f.key)) continue;
      const sub = [...rel, f.key];
      const v = value?.[f.key];
      const n = f.node;
      if (n.type === "const") continue;
      if (n.type === "object" || n.type === "union") {
        const fs = h("fieldset", { "data-path": join(this.prefix, sub.join(".")) }, h("legend", {}, labelFor(f.key)));
        if (n.description) fs.append(h("div", { class: "hint" }, n.description));
        parent.append(fs);
        this.renderNode(fs, n, v ?? defaultValue(n), sub);
      } else if (n.type === "array") {
        this.renderArray(parent, f.key, n, v ?? [], sub);
      } else {
        this.field(parent, sub, f.key, n, this.leaf(n, v, sub));
      }
    }
  }

  renderUnion(parent, node, value, rel) {
    const key = variantOf(node, value);
    const sel = h("select", {}, ...node.options.map((o) => h("option", { value: o, selected: o === key }, labelFor(o))));
    sel.addEventListener("change", () => {
      const next = convertVariant(node, value, sel.value);
      if (rel.length === 0) {
        this.value = next;
        this.onChange(this.value, join(this.prefix, node.discriminator));
      } else this.emit(rel, next);
      this.render();
    });
    this.field(parent, [...rel, node.discriminator], node.discriminator, { description: node.description }, sel);
    this.renderObject(parent, node.variants[key], value ?? {}, rel, rel.length === 0);
  }

  renderArray(parent, key, node, list, rel) {
    const path = join(this.prefix, rel.join("."));
    const fs = h("fieldset", { "data-path": path }, h("legend", {}, `${labelFor(key)} (${list.length})`));
    if (node.description) fs.append(h("div", { class: "hint" }, node.description));
    const error = h("div", { class: "field-error", "data-error-for": path });
    fs.append(error);
    this.fields.set(path, { wrap: fs, input: null, error });
    list.forEach((item, i) => {
      const box = h("div", { class: "array-item" });
      const remove = h("button", { type: "button", class: "danger small", title: "remove" }, "Remove");
      remove.addEventListener("click", () => {
        this.emit(rel, list.filter((_, j) => j !== i));
        this.render();
      });
      box.append(h("div", { class: "item-head" }, h("strong", {}, `#${i + 1}`), remove));
      this.renderNode(box, node.items, item, [...rel, i]);
      fs.append(box);
    });
    const add = h("button", { type: "button" }, `Add ${labelFor(key).replace(/s$/, "")}`);
    add.disabled = node.maxItems !== undefined && list.length >= node.maxItems;
    add.addEventListener("click", () => {
      this.emit(rel, [...list, defaultValue(node.items)]);
      this.render();
    });
    fs.append(add);
    parent.append(fs);
  }

  leaf(node, value, rel) {
    const t = node.type;
    if (t === "boolean") {
      const el = h("input", { type: "checkbox", checked: !!value });
      el.addEventListener("change", () => this.emit(rel, el.checked));
      return el;
    }
    if (t === "enum") {
      const opts = node.nullable ? [null, ...node.options] : node.options;
      const el = h("select", {}, ...opts.map((o) => h("option", { value: o ?? "", selected: o === value }, o === null ? "—" : String(o))));
      el.addEventListener("change", () => this.emit(rel, opts[el.selectedIndex])); // the option itself: true stays a boolean
      return el;
    }
    if (t === "number" || t === "integer") return this.numberInput(node, value, rel);
    if (t === "enumArray") return this.enumChecks(node, value, rel);
    if (t === "numberArray" || t === "numberOrArray" || t === "stringArray") return this.listInput(node, value, rel);
    if (t === "string") {
      const el = h("input", { type: "text", value: value ?? "" });
      el.addEventListener("input", () => this.emit(rel, el.value === "" && node.nullable ? null : el.value));
      return el;
    }
    const el = h("textarea", { rows: 3 }, JSON.stringify(value ?? null));
    el.addEventListener("input", () => {
      try {
        this.emit(rel, JSON.parse(el.value));
        el.classList.remove("invalid");
      } catch {
        el.classList.add("invalid");
      }
    });
    return el;
  }

  numberInput(node, value, rel) {
    // Shown with 6 significant digits; the exact value stays in the spec until the field is edited.
    const attrs = { type: "number", step: node.type === "integer" ? 1 : "any", value: displayNumber(value) };
    if (node.min !== undefined) attrs.min = node.min;
    if (node.max !== undefined) attrs.max = node.max;
    if (node.nullable) attrs.placeholder = "none";
    const el = h("input", attrs);
    el.addEventListener("input", () => {
      if (el.value.trim() === "") {
        if (node.nullable) this.emit(rel, null);
        return;
      }
      const v = Number(el.value);
      if (Number.isFinite(v)) this.emit(rel, v);
    });
    return el;
  }

  /** A list of choices from a fixed set: one checkbox per option, the value in option order. */
  enumChecks(node, value, rel) {
    const picked = new Set(Array.isArray(value) ? value : []);
    const group = h("span", { class: "checks", role: "group" });
    const boxes = node.options.map((o) => h("input", { type: "checkbox", value: o, checked: picked.has(o) }));
    boxes.forEach((box, i) => {
      box.addEventListener("change", () => this.emit(rel, boxes.filter((b) => b.checked).map((b) => b.value)));
      group.append(h("label", { class: "check" }, box, ` ${node.options[i]}`));
    });
    return group;
  }

  listInput(node, value, rel) {
    const numeric = node.type !== "stringArray";
    const original = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
    const text = !numeric ? original.join(", ") : Array.isArray(value) ? displayNumberList(value) : displayNumber(value);
    const el = h("input", { type: "text", value: text, placeholder: node.nullable ? "none" : "comma-separated" });
    el.addEventListener("input", () => {
      const raw = el.value.trim();
      if (raw === "" && node.nullable) return this.emit(rel, null);
      if (node.type === "stringArray") {
        return this.emit(
          rel,
          raw.split(",").map((x) => x.trim()).filter(Boolean)
        );
      }
      const parsed = parseNumberListKeeping(raw, original);
      el.classList.toggle("invalid", !!parsed.error);
      if (parsed.error) return;
      if (node.type === "numberOrArray" && parsed.values.length === 1 && !raw.includes(",")) this.emit(rel, parsed.values[0]);
      else this.emit(rel, parsed.values);
    });
    return el;
  }
}
