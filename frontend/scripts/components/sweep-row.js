// One row of the experiment designer: a field (PathPicker) and its values, typed as a
// comma-separated list (swept) or a single value (fixed), with the field's current value, its
// bounds and the row's error. Emits onChange({path, text}) and onRemove().

import { h } from "../dom.js";
import { boundsText } from "../logic/schema.js";
import { showLeaf } from "../logic/specdiff.js";
import { parseValueList } from "../logic/valuelist.js";
import { PathPicker } from "./path-picker.js";

export class SweepRow {
  /**
   * @param {{leaves: object[], row: {path: string, text: string}, mode: "sweep"|"set", key: string,
   *   onChange: (row: object) => void, onRemove: () => void}} opts
   */
  constructor({ leaves, row, mode, key, onChange, onRemove }) {
    this.leaves = leaves;
    this.row = { ...row };
    this.mode = mode;
    this.onChange = onChange;
    const pickerBox = h("div", { class: "sweep-path" });
    this.values = h("input", {
      type: "text",
      class: "sweep-values",
      value: row.text,
      placeholder: mode === "sweep" ? "values, comma separated: 0.001, 0.003, 0.01" : "one value",
      "aria-label": mode === "sweep" ? "values to sweep" : "value",
      "data-testid": "values-input",
    });
    this.values.addEventListener("input", () => this.changed());
    this.count = h("span", { class: "small muted sweep-count" });
    this.info = h("div", { class: "small muted sweep-info" });
    this.error = h("div", { class: "field-error", "data-error-for": key, "data-testid": "row-error" });
    this.el = h(
      "div",
      { class: "sweep-row", "data-row": key },
      pickerBox,
      this.values,
      this.count,
      h("button", { class: "small", title: "remove this field", "aria-label": "remove", onclick: () => onRemove() }, "×"),
      this.info,
      this.error
    );
    this.picker = new PathPicker(pickerBox, { leaves, value: row.path, onPick: (leaf) => this.picked(leaf) });
    this.describe();
  }

  leaf() {
    return this.leaves.find((l) => l.path === this.row.path);
  }

  picked(leaf) {
    if (leaf.path === this.row.path) return;
    this.row.path = leaf.path;
    if (!this.values.value.trim() && leaf.value !== undefined && this.mode === "set") this.values.value = showLeaf(leaf.value);
    this.changed();
    this.values.focus();
  }

  changed() {
    this.row.text = this.values.value;
    this.describe();
    this.onChange({ ...this.row });
  }

  describe() {
    const leaf = this.leaf();
    const parsed = parseValueList(this.row.text, leaf?.type);
    this.count.textContent = this.mode === "sweep" && parsed.values ? `${parsed.values.length} value${parsed.values.length === 1 ? "" : "s"}` : "";
    if (!leaf) {
      this.info.textContent = this.row.path ? `${this.row.path} is not a field of the base spec` : "";
      return;
    }
    const bounds = boundsText(leaf);
    const opts = leaf.options ? ` · one of ${leaf.options.join(", ")}` : "";
    this.info.textContent = `${leaf.type}${bounds ? ` (${bounds})` : ""}${opts} · now ${showLeaf(leaf.value)}${leaf.description ? ` · ${leaf.description}` : ""}`;
  }

  /** Show this row's errors (strings); none clears. */
  showErrors(messages = []) {
    this.error.textContent = messages.join("; ");
    this.values.classList.toggle("invalid", messages.length > 0);
  }
}
