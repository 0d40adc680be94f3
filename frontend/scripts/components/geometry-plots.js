// Musculotendon length and moment arm against joint angle, from POST /api/geometry; the other
// joints sit at mid-range or (with "follow posture" ticked) at the drawing's posture sliders.

import { colour, h } from "../dom.js";
import { layout, placeholder, react } from "./plots.js";

const DEG = 180 / Math.PI;

export class GeometryPlots {
  constructor(container, { onJoint = () => {}, onFollow = () => {}, follow = false } = {}) {
    this.jointSel = h("select", { "aria-label": "joint swept" });
    this.jointSel.addEventListener("change", () => {
      this.joint = Number(this.jointSel.value);
      onJoint(this.joint);
      this.redraw();
    });
    this.followBox = h("input", { type: "checkbox", "data-testid": "follow-posture", checked: follow });
    this.followBox.addEventListener("change", () => onFollow(this.followBox.checked));
    const followLabel = h(
      "label",
      { class: "small", title: "hold the other joints at the posture sliders (under the drawing) instead of mid-range" },
      this.followBox,
      " follow posture"
    );
    this.status = h("span", { class: "small muted", "data-testid": "geometry-status" });
    this.lengthEl = h("div", { class: "plot", "data-testid": "length-plot" });
    this.armEl = h("div", { class: "plot", "data-testid": "moment-arm-plot" });
    container.append(
      h("div", { class: "toolbar" }, h("strong", {}, "Muscle geometry against"), this.jointSel, followLabel, this.status),
      this.lengthEl,
      this.armEl
    );
    this.data = null;
    this.joint = 0;
    this.selected = 0;
    placeholder(this.lengthEl, "muscle lengths appear here");
    placeholder(this.armEl, "moment arms appear here");
  }

  /** Set the geometry response (or null with a message). */
  set(data, { joint = this.joint, selected = this.selected, pointMass = false } = {}) {
    this.data = data;
    this.joint = Math.min(joint, Math.max((data?.sweeps?.length ?? 1) - 1, 0));
    this.selected = selected;
    this.pointMass = pointMass;
    const names = pointMass ? ["x", "y"] : ["shoulder", "elbow", "wrist", "joint 4", "joint 5", "joint 6", "joint 7", "joint 8"];
    this.jointSel.replaceChildren(
      ...(data?.sweeps ?? []).map((sw, i) =>
        h("option", { value: i, selected: i === this.joint }, names[sw.joint ?? i] ?? `joint ${i + 1}`)
      )
    );
    this.redraw();
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  select(i) {
    this.selected = i;
    this.redraw();
  }

  redraw() {
    const d = this.data;
    if (!d || !d.sweeps?.length) return;
    const sw = d.sweeps[this.joint];
    const deg = !this.pointMass;
    const x = sw.angles.map((a) => (deg ? a * DEG : a));
    const n = d.muscle_names.length;
    const trace = (key) =>
      d.muscle_names.map((name, m) => ({
        x,
        y: sw[key].map((row) => row[m]),
        name,
        mode: "lines",
        line: { color: colour(m, n), width: m === this.selected ? 4 : 1.5 },
        opacity: m === this.selected ? 1 : 0.55,
      }));
    const xt = deg ? "joint angle [deg]" : "position [m]";
    const legend = { orientation: "v", x: 1.02, y: 1, font: { size: 11 } };
    react(this.lengthEl, trace("length"), layout({ xaxis: { title: { text: xt } }, yaxis: { title: { text: "musculotendon length [m]" } }, showlegend: n <= 16, legend }));
    react(this.armEl, trace("moment_arm"), layout({ xaxis: { title: { text: xt } }, yaxis: { title: { text: "moment arm [m]" } }, showlegend: n <= 16, legend }));
  }
}
