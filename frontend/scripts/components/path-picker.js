// A searchable select of a spec's leaf paths ("train.lr", "task.perturbations.0.gain"): type to
// filter, arrows + Enter or a click to pick. Emits onPick(leaf) with the chosen leaf.

import { h } from "../dom.js";
import { searchLeaves } from "../logic/leafpaths.js";
import { showLeaf } from "../logic/specdiff.js";

let nextId = 0;

export class PathPicker {
  /**
   * @param {HTMLElement} el container
   * @param {{leaves: object[], value?: string, onPick: (leaf: object) => void, placeholder?: string}} opts
   */
  constructor(el, { leaves, value = "", onPick, placeholder = "search a field: lr, hidden, gain…" }) {
    this.leaves = leaves;
    this.onPick = onPick;
    this.active = 0;
    this.shown = [];
    const id = `path-options-${nextId++}`;
    this.input = h("input", {
      type: "search",
      class: "path-input",
      value,
      placeholder,
      autocomplete: "off",
      role: "combobox",
      "aria-expanded": "false",
      "aria-controls": id,
      "aria-label": "field to set",
      "data-testid": "path-input",
    });
    this.listEl = h("ul", { class: "path-options", id, role: "listbox", hidden: true });
    this.input.addEventListener("input", () => this.open());
    this.input.addEventListener("focus", () => this.open());
    this.input.addEventListener("keydown", (ev) => this.key(ev));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(true), 150));
    el.replaceChildren(h("div", { class: "path-picker" }, this.input, this.listEl));
  }

  get value() {
    return this.input.value.trim();
  }

  setLeaves(leaves) {
    this.leaves = leaves;
  }

  open() {
    this.shown = searchLeaves(this.leaves, this.input.value, 40);
    this.active = 0;
    this.renderList();
    this.listEl.hidden = this.shown.length === 0;
    this.input.setAttribute("aria-expanded", String(!this.listEl.hidden));
  }

  renderList() {
    this.listEl.replaceChildren(
      ...this.shown.map((leaf, i) =>
        h(
          "li",
          {
            role: "option",
            class: i === this.active ? "active" : "",
            "aria-selected": String(i === this.active),
            "data-path": leaf.path,
            onmousedown: (ev) => {
              ev.preventDefault();
              this.pick(leaf);
            },
          },
          h("span", { class: "path" }, leaf.path),
          h("span", { class: "small muted" }, ` ${leaf.type} · ${truncate(showLeaf(leaf.value), 28)}`)
        )
      )
    );
  }

  key(ev) {
    if (this.listEl.hidden && (ev.key === "ArrowDown" || ev.key === "ArrowUp")) return this.open();
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const n = this.shown.length;
      this.active = (this.active + (ev.key === "ArrowDown" ? 1 : n - 1)) % Math.max(n, 1);
      this.renderList();
      this.listEl.children[this.active]?.scrollIntoView({ block: "nearest" });
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      const exact = this.leaves.find((l) => l.path === this.value);
      const leaf = exact ?? this.shown[this.active];
      if (leaf) this.pick(leaf);
    } else if (ev.key === "Escape") this.close(true);
  }

  pick(leaf) {
    this.input.value = leaf.path;
    this.close(false);
    this.onPick(leaf);
  }

  /** Hide the options; on blur a typed exact path counts as picked. */
  close(commit) {
    this.listEl.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    if (commit) {
      const exact = this.leaves.find((l) => l.path === this.value);
      if (exact) this.onPick(exact);
    }
  }
}

function truncate(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
