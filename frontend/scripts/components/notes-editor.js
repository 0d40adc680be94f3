// Editable notes: a textarea and a Save button that calls onSave(text) (a PATCH); shows "saved".

import { errorMessage } from "../api.js";
import { h } from "../dom.js";

export class NotesEditor {
  /** @param {HTMLElement} el @param {{value: string, onSave: (text: string) => Promise<void>, testid?: string}} opts */
  constructor(el, { value = "", onSave, testid = "notes" }) {
    this.onSave = onSave;
    this.saved = value;
    this.area = h("textarea", { rows: 3, class: "notes", placeholder: "notes: what this asks, what you saw…", "data-testid": `${testid}-input`, "aria-label": "notes" }, value);
    this.button = h("button", { onclick: () => this.save(), "data-testid": `${testid}-save`, disabled: true }, "Save notes");
    this.state = h("span", { class: "small muted", "data-testid": `${testid}-state` });
    this.area.addEventListener("input", () => {
      this.button.disabled = this.area.value === this.saved;
      this.state.textContent = this.area.value === this.saved ? "" : "unsaved";
    });
    el.replaceChildren(h("div", { class: "notes-editor" }, this.area, h("div", { class: "toolbar" }, this.button, this.state)));
  }

  /** Show a value from the server unless the user is editing. */
  setValue(value) {
    if (this.area.value !== this.saved) return;
    this.saved = value ?? "";
    this.area.value = this.saved;
  }

  async save() {
    const text = this.area.value;
    this.button.disabled = true;
    try {
      await this.onSave(text);
      this.saved = text;
      this.state.textContent = "saved";
    } catch (err) {
      this.state.textContent = `not saved: ${errorMessage(err)}`;
      this.button.disabled = false;
    }
  }
}
