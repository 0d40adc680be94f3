// Parallel coordinates of an experiment: an axis per swept field and per final metric, a line per
// network (or per condition's mean), coloured by the first metric.

import { parcoordsTrace } from "../logic/experiments.js";
import { placeholder, purge, react } from "./plots.js";

export class ParcoordsPlot {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
  }

  draw(agg, keys, runsById, { per = "network" } = {}) {
    const trace = parcoordsTrace(agg, keys, { per, runsById });
    if (!trace) return placeholder(this.el, "No conditions yet.");
    return react(this.el, [trace], { margin: { l: 70, r: 70, t: 50, b: 30 } });
  }

  destroy() {
    purge(this.el);
  }
}
