// Muscle list (select, add, remove), the shared muscle model and geometry kind, the selected
// muscle's parameters (generated form) and its geometry (path-point table or generated form).

import { colour, h } from "../dom.js";
import { addMuscle, addPathPoint, removeMuscle, removePathPoint, setPathPoint } from "../logic/effector.js";
import { nBodies } from "../logic/geometry.js";
import { convertVariant, displayNumber, labelFor } from "../logic/schema.js";
import { SchemaForm } from "./schema-form.js";

const GEOMETRY_HELP = {
  path: "straight segments through fixation points; lengths and moment arms follow from the drawing",
  polynomial: "length as a polynomial of the joint angles (Nijhof & Kouwenhoven 2000)",
  constant: "constant moment arms",
};

/** Names of the bodies a path point may sit on. */
export function bodyNames(skeleton) {
  if (skeleton.kind === "point_mass") return ["world", "mass"];
  const seg = ["upper arm", "forearm", "hand"];
  return Array.from({ length: nBodies(skeleton) }, (_, i) => (i === 0 ? "world" : seg[i - 1] ?? `segment ${i}`));
}

export class MuscleEditor {
  /**
   * @param {HTMLElement} container
   * @param {object} muscleNode union form node of one muscle
   * @param {{onChange(spec, structural), onSelect(i)}} handlers
   */
  constructor(container, muscleNode, { onChange, onSelect }) {
    this.container = container;
    this.node = muscleNode;
    this.onChange = onChange;
    this.onSelect = onSelect;
    this.forms = [];
  }

  /** Full re-render for a spec and selected muscle. */
  render(spec, selected) {
    this.spec = spec;
    this.selected = Math.min(selected, spec.muscles.length - 1);
    const m = spec.muscles[this.selected];
    this.list = h("ul", { class: "muscle-list", "data-testid": "muscle-list" });
    this.renderList();
    const add = h("button", { type: "button", "data-testid": "add-muscle", onclick: () => this.add() }, "+ Add muscle");
    const remove = h("button", { type: "button", class: "danger", onclick: () => this.remove() }, "Remove selected");
    remove.disabled = spec.muscles.length <= 1;
    const kindSel = this.select(this.node.options, m.kind, (v) => this.setKind(v), "muscle-model");
    const geoSel = this.select(["path", "polynomial", "constant"], m.geometry.kind, (v) => this.setGeometryKind(v), "geometry-kind");

    const paramsBox = h("div");
    const geomBox = h("div");
    this.forms = [];
    const prefix = `muscles.${this.selected}`;
    const form = new SchemaForm(paramsBox, this.node, m, {
      prefix,
      omit: ["geometry"],
      // The form edits everything but the geometry, which the point table and the drawing own.
      onChange: (value, path) => this.emitMuscle({ ...value, geometry: this.spec.muscles[this.selected].geometry }, path.endsWith(".name")),
    });
    // The model is chosen above for all muscles at once: hide the per-muscle kind selector.
    paramsBox.querySelector(`[data-path="${prefix}.kind"]`)?.remove();
    this.forms.push(form);
    this.renderGeometry(geomBox, m);

    this.container.replaceChildren(
      h("div", { class: "toolbar" }, add, remove),
      this.list,
      h("div", { class: "field" }, h("label", {}, "muscle model"), h("div", { class: "control" }, kindSel, h("span", { class: "help" }, "shared by every muscle of the effector"))),
      h("div", { class: "field" }, h("label", {}, "geometry"), h("div", { class: "control" }, geoSel, h("span", { class: "help" }, GEOMETRY_HELP[m.geometry.kind] ?? ""))),
      h("h3", {}, `Muscle “${m.name}”`),
      paramsBox,
      h("h3", {}, "Geometry"),
      geomBox
    );
  }

  select(options, value, onChange, testid) {
    const el = h("select", { "data-testid": testid }, ...options.map((o) => h("option", { value: o, selected: o === value }, labelFor(o))));
    el.addEventListener("change", () => onChange(el.value));
    return el;
  }

  renderList() {
    const n = this.spec.muscles.length;
    this.list.replaceChildren(
      ...this.spec.muscles.map((m, i) => {
        const li = h(
          "li",
          { class: i === this.selected ? "sel" : "", "data-index": i },
          h("span", { class: "swatch", style: `background:${colour(i, n)}` }),
          h("span", {}, m.name),
          h("span", { class: "err", "data-muscle-error": i })
        );
        li.addEventListener("click", () => this.onSelect(i));
        return li;
      })
    );
    const sel = this.list.children[this.selected];
    // Centre the selected muscle in the list (scrolling the list only, never the page). Its offset
    // is measured against the list's box: the list is not the item's offsetParent.
    if (sel) {
      requestAnimationFrame(() => {
        const top = sel.getBoundingClientRect().top - this.list.getBoundingClientRect().top + this.list.scrollTop;
        this.list.scrollTop = Math.max(0, top - (this.list.clientHeight - sel.offsetHeight) / 2);
      });
    }
  }

  /** Mark muscles that have errors in the list. */
  markErrors(errors) {
    const bad = new Set(errors.map((e) => /^muscles\.(\d+)/.exec(e.loc)?.[1]).filter(Boolean).map(Number));
    for (const el of this.list.querySelectorAll("[data-muscle-error]")) el.textContent = bad.has(Number(el.dataset.muscleError)) ? "⚠" : "";
  }

  renderGeometry(box, m) {
    const prefix = `muscles.${this.selected}.geometry`;
    if (m.geometry.kind !== "path") {
      const geoNode = this.node.variants[m.kind].fields.find((f) => f.key === "geometry").node;
      const form = new SchemaForm(box, geoNode, m.geometry, {
        prefix,
        omit: ["kind"],
        onChange: (g) => this.emitMuscle({ ...this.spec.muscles[this.selected], geometry: g }, false),
      });
      box.querySelector(`[data-path="${prefix}.kind"]`)?.remove();
      this.forms.push(form);
      return;
    }
    this.pointsBox = box;
    this.renderPoints();
  }

  renderPoints() {
    const m = this.spec.muscles[this.selected];
    const names = bodyNames(this.spec.skeleton);
    const prefix = `muscles.${this.selected}.geometry.points`;
    const rows = m.geometry.points.map((p, j) => {
      const set = (patch) => this.setPoint(j, { ...this.spec.muscles[this.selected].geometry.points[j], ...patch });
      const body = h("select", { name: `${prefix}.${j}.body` }, ...names.map((nm, b) => h("option", { value: b, selected: b === p.body }, `${b} ${nm}`)));
      body.addEventListener("change", () => set({ body: Number(body.value) }));
      const num = (key) => {
        const el = h("input", { type: "number", step: "0.001", value: displayNumber(p[key]), name: `${prefix}.${j}.${key}` });
        el.addEventListener("input", () => Number.isFinite(Number(el.value)) && el.value !== "" && set({ [key]: Number(el.value) }));
        return el;
      };
      const plus = h("button", { type: "button", title: "insert a point after this one", onclick: () => this.structural(addPathPoint(this.spec, this.selected, j)) }, "+");
      const minus = h("button", { type: "button", title: "remove this point", onclick: () => this.structural(removePathPoint(this.spec, this.selected, j)) }, "−");
      minus.disabled = m.geometry.points.length <= 2;
      return h(
        "tr",
        { "data-path": `${prefix}.${j}` },
        h("td", {}, j + 1),
        h("td", {}, body),
        h("td", {}, num("x")),
        h("td", {}, num("y")),
        h("td", {}, plus, minus),
        h("td", { class: "field-error", "data-error-for": `${prefix}.${j}` })
      );
    });
    this.pointsBox.replaceChildren(
      h("p", { class: "hint" }, "Drag the selected muscle's points on the drawing, or type body-frame coordinates (x along the segment, from its proximal joint)."),
      h("table", { class: "points" }, h("tr", {}, h("th", {}, "#"), h("th", {}, "body"), h("th", {}, "x [m]"), h("th", {}, "y [m]"), h("th", {}), h("th", {})), ...rows),
      h("div", { class: "field-error", "data-error-for": prefix })
    );
  }

  /** Update the point inputs after a drag without re-rendering the whole editor. */
  updatePoints(spec) {
    this.spec = spec;
    if (this.pointsBox && spec.muscles[this.selected].geometry.kind === "path") this.renderPoints();
  }

  /** Render path-point errors (the table is not a SchemaForm). */
  showPointErrors(errors) {
    if (!this.pointsBox) return;
    const prefix = `muscles.${this.selected}.geometry.points`;
    for (const el of this.pointsBox.querySelectorAll("[data-error-for]")) {
      const p = el.dataset.errorFor;
      const mine = errors.filter((e) => e.loc === p || e.loc.startsWith(p + ".") && (p !== prefix || !/^\d/.test(e.loc.slice(p.length + 1))));
      el.textContent = mine.map((e) => e.msg).join("; ");
    }
  }

  /** Paths that the point table shows errors for. */
  pointPaths() {
    const m = this.spec.muscles[this.selected];
    if (m.geometry.kind !== "path") return [];
    const prefix = `muscles.${this.selected}.geometry.points`;
    return [prefix, ...m.geometry.points.map((_, j) => `${prefix}.${j}`)];
  }

  setPoint(j, point) {
    this.spec = setPathPoint(this.spec, this.selected, j, point);
    this.onChange(this.spec, false);
  }

  emitMuscle(muscle, renamed) {
    this.spec = { ...this.spec, muscles: this.spec.muscles.map((m, i) => (i === this.selected ? muscle : m)) };
    if (renamed) this.renderList();
    this.onChange(this.spec, false);
  }

  structural(spec) {
    this.spec = spec;
    this.onChange(spec, true);
  }

  add() {
    const spec = addMuscle(this.spec);
    this.onSelect(spec.muscles.length - 1, spec);
  }

  remove() {
    const spec = removeMuscle(this.spec, this.selected);
    this.onSelect(Math.max(0, this.selected - 1), spec);
  }

  setKind(kind) {
    this.structural({ ...this.spec, muscles: this.spec.muscles.map((m) => convertVariant(this.node, m, kind)) });
  }

  setGeometryKind(kind) {
    const dof = this.spec.skeleton.kind === "point_mass" ? 2 : nBodies(this.spec.skeleton) - 1;
    const last = nBodies(this.spec.skeleton) - 1;
    const make = (m) => {
      if (m.geometry.kind === kind) return m.geometry;
      if (kind === "path") return { kind, points: [{ body: 0, x: 0.05, y: 0.05 }, { body: last, x: 0.05, y: 0 }] };
      if (kind === "polynomial") return { kind, a0: 0.25, a1: new Array(dof).fill(0.02), a2: new Array(dof).fill(0), a3: new Array(dof).fill(0) };
      return { kind, length: 0.25, moment_arms: new Array(dof).fill(0.02) };
    };
    this.structural({ ...this.spec, muscles: this.spec.muscles.map((m) => ({ ...m, geometry: make(m) })) });
  }
}
