// Training curves of an experiment: per condition the mean of its seeds with the 95% interval as a
// band (one colour per condition), on a linear or log y axis.

import { bandTraces } from "../logic/experiments.js";
import { placeholder, purge, react } from "./plots.js";

export class ExperimentCurves {
  /** @param {HTMLElement} el the plot's element */
  constructor(el) {
    this.el = el;
  }

  /** Draw metric `key` of aggregates `agg`; `log` for a log y axis. */
  draw(agg, key, { log = false } = {}) {
    const traces = bandTraces(agg, key);
    if (!traces.length) return placeholder(this.el, `No ${key} curves yet: they appear as the networks train.`);
    return react(this.el, traces, {
      xaxis: { title: { text: "training step" } },
      yaxis: { title: { text: `${key} (mean ± 95% CI over seeds)` }, type: log ? "log" : "linear" },
      hovermode: "closest",
      legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top", font: { size: 11 } },
      margin: { l: 60, r: 15, t: 15, b: 40 },
    });
  }

  destroy() {
    purge(this.el);
  }
}
