// One evaluation snapshot: the arm reaching to every target (animated), hand paths, muscle
// activations, hidden units x time and PCA trajectories.

import { colour, h } from "../dom.js";
import { flattenTrials, pca, project } from "../logic/pca.js";
import { transpose } from "../logic/metrics.js";
import { ArmCanvas } from "./arm-canvas.js";
import { layout, placeholder, react } from "./plots.js";

export class SnapshotView {
  /** opts.onTrial(b) when the user picks a trial. */
  constructor({ armBox, plotsBox, onTrial = () => {} }) {
    this.onTrial = onTrial;
    this.canvas = new ArmCanvas(armBox, { testid: "run-arm" });
    this.playBtn = h("button", { type: "button", "data-testid": "play" }, "Pause");
    this.playBtn.addEventListener("click", () => this.toggle());
    this.timeSlider = h("input", { type: "range", min: 0, max: 0, value: 0, "aria-label": "time" });
    this.timeSlider.addEventListener("input", () => {
      this.playing = false;
      this.playBtn.textContent = "Play";
      this.t = Number(this.timeSlider.value);
      this.render();
    });
    this.timeLabel = h("span", { class: "small muted" });
    armBox.append(h("div", { class: "scrub" }, this.playBtn, this.timeSlider, this.timeLabel));
    this.trialSel = h("select", { "aria-label": "trial", "data-testid": "trial-select" });
    this.trialSel.addEventListener("change", () => {
      this.trial = Number(this.trialSel.value);
      this.onTrial(this.trial);
      this.plotTrial();
    });
    this.handEl = h("div", { class: "plot", "data-testid": "hand-paths" });
    this.actEl = h("div", { class: "plot", "data-testid": "activations" });
    this.hidEl = h("div", { class: "plot", "data-testid": "hidden-heatmap" });
    this.pcaEl = h("div", { class: "plot", "data-testid": "pca" });
    plotsBox.append(
      h("div", { class: "toolbar" }, h("strong", {}, "Trial shown in the activation and hidden-unit plots:"), this.trialSel),
      h("div", { class: "cols2" }, this.handEl, this.actEl, this.hidEl, this.pcaEl)
    );
    for (const [el, text] of [[this.handEl, "hand paths"], [this.actEl, "muscle activations"], [this.hidEl, "hidden units"], [this.pcaEl, "PCA of hidden activity"]]) {
      placeholder(el, `${text} appear with the first evaluation snapshot`);
    }
    this.data = null;
    this.trial = 0;
    this.t = 0;
    this.playing = true;
    this.last = 0;
    this.raf = requestAnimationFrame((ts) => this.tick(ts));
  }

  /** Show a snapshot's data. */
  set(data, trial = this.trial) {
    this.data = data;
    const B = data.hand?.length ?? 0;
    this.trial = Math.min(trial, Math.max(B - 1, 0));
    this.trialSel.replaceChildren(...Array.from({ length: B }, (_, b) => h("option", { value: b, selected: b === this.trial }, `reach ${b + 1}`)));
    const T = data.time?.length ?? 0;
    this.timeSlider.max = Math.max(T - 1, 0);
    this.t = Math.min(this.t, Math.max(T - 1, 0));
    const pts = [...(data.joints ?? []).flat(2), ...(data.targets ?? []), [0, 0]];
    if (pts.length) this.canvas.fit(pts, 0.15);
    this.render();
    this.plotAll();
  }

  toggle() {
    this.playing = !this.playing;
    this.playBtn.textContent = this.playing ? "Pause" : "Play";
  }

  tick(ts) {
    const dt = (ts - this.last) / 1000;
    this.last = ts;
    if (this.data && this.playing && dt > 0 && dt < 0.5) {
      const time = this.data.time;
      const T = time.length;
      if (T > 1) {
        const span = time[T - 1] - time[0] || 1;
        // Real time, with a short hold at the end of each reach.
        this.clock = ((this.clock ?? 0) + dt) % (span + 0.6);
        const now = time[0] + Math.min(this.clock, span);
        let k = 0;
        while (k + 1 < T && time[k + 1] <= now) k++;
        if (k !== this.t) {
          this.t = k;
          this.timeSlider.value = k;
          this.render();
        }
      }
    }
    this.raf = requestAnimationFrame((t2) => this.tick(t2));
  }

  render() {
    const d = this.data;
    if (!d || !d.joints) return;
    const B = d.joints.length;
    const t = this.t;
    const pointMass = d.effector_kind === "point_mass";
    this.canvas.draw({
      pointMass,
      targets: (d.targets ?? []).map((xy, b) => ({ xy, colour: colour(b, B) })),
      paths: d.hand.map((path, b) => ({ points: path.slice(0, t + 1), colour: colour(b, B), alpha: 0.8 })),
      arms: d.joints.map((traj, b) => ({ joints: traj[t], colour: b === this.trial ? "#1d2330" : colour(b, B), alpha: b === this.trial ? 0.95 : 0.35, width: b === this.trial ? 7 : 4 })),
      scale: true,
      labels: [`step ${d.step ?? "?"} · t = ${(d.time?.[t] ?? 0).toFixed(2)} s`, `mean endpoint error ${(100 * (d.mean_endpoint_error ?? NaN)).toFixed(2)} cm`],
    });
    this.timeLabel.textContent = `t = ${(d.time?.[t] ?? 0).toFixed(2)} s`;
  }

  plotAll() {
    const d = this.data;
    const B = d.hand.length;
    const traces = d.hand.map((path, b) => ({ x: path.map((p) => p[0]), y: path.map((p) => p[1]), mode: "lines", name: `reach ${b + 1}`, line: { color: colour(b, B) }, showlegend: false }));
    traces.push({ x: d.targets.map((p) => p[0]), y: d.targets.map((p) => p[1]), mode: "markers", name: "targets", marker: { symbol: "circle-open", size: 12, color: "#c5221f" } });
    react(this.handEl, traces, layout({ title: { text: "hand paths", font: { size: 13 } }, xaxis: { title: { text: "x [m]" } }, yaxis: { title: { text: "y [m]" }, scaleanchor: "x" }, showlegend: false }));
    this.plotTrial();
    this.plotPca();
  }

  plotTrial() {
    const d = this.data;
    if (!d) return;
    const b = this.trial;
    const acts = transpose(d.activation?.[b] ?? []);
    const M = acts.length;
    react(
      this.actEl,
      acts.map((ys, m) => ({ x: d.time, y: ys, mode: "lines", name: d.muscle_names?.[m] ?? `muscle ${m + 1}`, line: { color: colour(m, M) } })),
      layout({ title: { text: `muscle activations, reach ${b + 1}`, font: { size: 13 } }, xaxis: { title: { text: "time [s]" } }, yaxis: { title: { text: "activation" } }, showlegend: M <= 12, legend: { orientation: "v", x: 1.02, y: 1 } })
    );
    const hid = d.hidden?.[b] ?? [];
    react(
      this.hidEl,
      [{ z: transpose(hid), x: d.time, type: "heatmap", colorscale: "RdBu", reversescale: true, zmid: 0, colorbar: { thickness: 10 } }],
      layout({ title: { text: `hidden units × time, reach ${b + 1}`, font: { size: 13 } }, xaxis: { title: { text: "time [s]" } }, yaxis: { title: { text: "unit" } } })
    );
  }

  plotPca() {
    const d = this.data;
    const rows = flattenTrials(d.hidden ?? []);
    if (rows.length < 3 || !rows[0]?.length) return;
    const fit = pca(rows, 2);
    const B = d.hidden.length;
    const traces = d.hidden.map((trial, b) => {
      const p = project(trial, fit);
      return { x: p.map((r) => r[0]), y: p.map((r) => r[1] ?? 0), mode: "lines", name: `reach ${b + 1}`, line: { color: colour(b, B) } };
    });
    const ev = fit.explained.map((x) => `${(100 * x).toFixed(0)}%`);
    react(this.pcaEl, traces, layout({ title: { text: "hidden activity, first two principal components", font: { size: 13 } }, xaxis: { title: { text: `PC1 (${ev[0]})` } }, yaxis: { title: { text: `PC2 (${ev[1] ?? "–"})` } }, showlegend: false }));
  }

  destroy() {
    cancelAnimationFrame(this.raf);
  }
}
