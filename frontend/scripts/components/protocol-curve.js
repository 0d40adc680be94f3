// Run page panel of a training protocol's run: the learning and de-adaptation curves (the field
// trials' and catch trials' peak lateral deviation, the channel trials' peak force), one point per
// iteration with a running mean, the blocks (baseline, curl, washout...) marked.

import { react } from "./plots.js";
import { colour, h } from "../dom.js";
import { blockMarks, blockRanges, protocolTraces } from "../logic/dynamics.js";

const WINDOW = 10; // iterations of the running mean

export class ProtocolCurve {
  constructor(container, protocol) {
    this.ranges = blockRanges(protocol);
    this.el = h("div", { class: "plot tall", "data-testid": "protocol-curve" });
    this.empty = h("p", { class: "small muted", "data-testid": "protocol-empty" }, "The curves appear with the first iterations.");
    const blocks = this.ranges.map((r) => `${r.name} (iterations ${r.first}-${r.last})`).join(" → ");
    const probes = [protocol.catch_prob ? `${Math.round(protocol.catch_prob * 100)}% catch trials (no perturbation)` : "", protocol.channel_prob ? `${Math.round(protocol.channel_prob * 100)}% force-channel trials` : ""].filter(Boolean).join(" and ");
    container.append(
      h("p", { class: "hint", "data-testid": "protocol-blocks" }, `Blocks: ${blocks}${probes ? `; ${probes}` : ""}. Each iteration's training batch: the peak signed lateral deviation from the start-to-target line (left positive) of its field and catch trials, and the peak force its channel trials push into the channel. Faint: per iteration; bold: ${WINDOW}-iteration running mean.`),
      this.empty,
      this.el
    );
    this.last = 0;
  }

  /** Redraw from the page's metric series (at most once a second while a run streams, unless `force`). */
  update(series, force = false) {
    const now = performance.now();
    if (!force && now - this.last < 1000) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.update(this.series, true), 1000);
      this.series = series;
      return;
    }
    this.last = now;
    this.series = series;
    const traces = protocolTraces(series, colour, WINDOW);
    this.empty.hidden = traces.length > 0;
    if (!traces.length) return;
    const { shapes, annotations } = blockMarks(this.ranges);
    const force2 = traces.some((t) => t.yaxis === "y2");
    const end = this.ranges.length ? this.ranges[this.ranges.length - 1].last : undefined;
    react(this.el, traces, {
      margin: { l: 60, r: force2 ? 70 : 20, t: 40, b: 110 },
      shapes,
      annotations,
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
      xaxis: { title: { text: "iteration" }, range: end ? [0.5, end + 0.5] : undefined },
      yaxis: { title: { text: "peak lateral deviation [cm]" }, zeroline: true },
      ...(force2 ? { yaxis2: { title: { text: "peak channel force [N]" }, overlaying: "y", side: "right", showgrid: false, zeroline: false, tickmode: "auto", nticks: 6, tickformat: "~g", automargin: true } } : {}),
    });
  }

  destroy() {
    clearTimeout(this.timer);
  }
}
