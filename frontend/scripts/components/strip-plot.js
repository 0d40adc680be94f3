// Condition vs final metric: each seed a dot, the condition's mean with its 95% interval beside them.
// A click on a dot emits onOpenRun(run_id).

import { stripTraces } from "../logic/experiments.js";
import { placeholder, purge, react } from "./plots.js";

export class StripPlot {
  /** @param {HTMLElement} el @param {{onOpenRun?: (id: number) => void}} opts */
  constructor(el, { onOpenRun } = {}) {
    this.el = el;
    this.onOpenRun = onOpenRun;
    this.bound = false;
  }

  draw(agg, key, runsById, { log = false } = {}) {
    const { traces, tickvals, ticktext } = stripTraces(agg, key, runsById);
    if (!traces.some((t) => t.y.length)) return placeholder(this.el, `No final ${key} values yet.`);
    const done = react(this.el, traces, {
      xaxis: { tickvals, ticktext: ticktext.map((t) => t.split(", ").join("<br>")), range: [-0.6, tickvals.length - 0.4], zeroline: false, automargin: true, tickangle: 0 },
      yaxis: { title: { text: `final ${key}` }, type: log ? "log" : "linear" },
      showlegend: false,
      margin: { l: 60, r: 15, t: 15, b: 40 },
      hovermode: "closest",
    });
    return done.then(() => this.bind());
  }

  bind() {
    if (this.bound || !this.el.on) return;
    this.bound = true;
    this.el.on("plotly_click", (ev) => {
      const id = ev.points?.[0]?.customdata;
      if (typeof id === "number") this.onOpenRun?.(id);
    });
  }

  destroy() {
    purge(this.el);
  }
}
