// Overlaid curves of several runs: total loss, endpoint error over training and lateral deviation.

import { api, errorMessage } from "../api.js";
import { colour, h } from "../dom.js";
import { lateralDeviation, mean } from "../logic/metrics.js";
import { stride } from "../logic/downsample.js";
import { layout, react } from "./plots.js";
import { SpecDiff } from "./spec-diff.js";

// The title on top, the legend of runs under the plot (a long list of runs wraps there instead of
// crowding the title).
const BELOW = {
  margin: { l: 55, r: 15, t: 40, b: 40 },
  legend: { orientation: "h", x: 0, xanchor: "left", y: -0.2, yanchor: "top", font: { size: 11 } },
};
const title = (text) => ({ text, font: { size: 13 }, x: 0.02, xanchor: "left", y: 0.98, yanchor: "top" });

export class ComparePanel {
  constructor(container) {
    this.msg = h("p", { class: "hint" });
    this.lossEl = h("div", { class: "plot tall", "data-testid": "compare-loss" });
    this.errEl = h("div", { class: "plot tall", "data-testid": "compare-error" });
    this.latEl = h("div", { class: "plot tall", "data-testid": "compare-lateral" });
    this.grid = h("div", { class: "cols3" }, this.lossEl, this.errEl, this.latEl);
    // the fields where two of the compared runs' specs differ (the experiments page's diff)
    const diffBox = h("div");
    this.diffSection = h("div", { "data-testid": "compare-spec-diff" }, h("h3", {}, "Spec differences"), diffBox);
    this.diff = new SpecDiff(diffBox);
    container.append(this.msg, this.grid, this.diffSection);
  }

  async show(runs) {
    if (runs.length < 2) {
      this.msg.textContent = "Tick two or more runs in the table to compare them.";
      this.grid.hidden = true;
      this.diffSection.hidden = true;
      return;
    }
    this.grid.hidden = false;
    this.diffSection.hidden = false;
    this.diff.setRuns(runs.map((r) => ({ run_id: r.id, label: r.name, seed: r.seed ?? "?" })));
    this.msg.textContent = `Comparing ${runs.map((r) => r.name + " #" + r.id).join(", ")}`;
    const data = await Promise.all(runs.map((r) => this.load(r)));
    const n = runs.length;
    const label = (r) => `#${r.id} ${r.name}`;
    react(
      this.lossEl,
      data.map((d, i) => ({ x: d.loss.step, y: d.loss.value, name: label(runs[i]), mode: "lines", line: { color: colour(i, n) } })),
      layout({ ...BELOW, title: title("loss"), xaxis: { title: { text: "iteration" } }, yaxis: { type: "log" } })
    );
    react(
      this.errEl,
      data.map((d, i) => ({ x: d.err.step, y: d.err.value.map((v) => v * 100), name: label(runs[i]), mode: "lines+markers", line: { color: colour(i, n) } })),
      layout({ ...BELOW, title: title("mean endpoint error (evaluation)"), xaxis: { title: { text: "iteration" } }, yaxis: { title: { text: "cm" } } })
    );
    react(
      this.latEl,
      [
        {
          type: "bar",
          x: runs.map(label),
          y: data.map((d) => d.lateral * 100),
          marker: { color: runs.map((_, i) => colour(i, n)) },
          name: "max lateral deviation",
        },
      ],
      layout({ ...BELOW, title: title("lateral deviation, latest snapshot (mean over reaches)"), yaxis: { title: { text: "cm" } }, showlegend: false })
    );
  }

  async load(run) {
    const out = { loss: { step: [], value: [] }, err: { step: [], value: [] }, lateral: NaN };
    try {
      const m = await api(`/api/runs/${run.id}/metrics?keys=loss&max_points=500`);
      out.loss = m.series?.loss ?? out.loss;
      const snaps = await api(`/api/runs/${run.id}/snapshots`);
      const picked = stride(snaps, 12);
      const datas = await Promise.all(picked.map((s) => api(`/api/runs/${run.id}/snapshots/${s.index}`)));
      for (const s of datas) {
        out.err.step.push(s.step);
        out.err.value.push(s.data.mean_endpoint_error);
      }
      const last = datas[datas.length - 1]?.data;
      if (last?.hand) out.lateral = mean(lateralDeviation(last.hand, last.targets));
    } catch (err) {
      this.msg.textContent = `Run #${run.id}: ${errorMessage(err)}`;
    }
    return out;
  }
}
