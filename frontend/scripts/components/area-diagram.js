// The areas of a multi-area policy and their connections: a small SVG diagram (inputs -> areas ->
// muscles, projections with their delays) and the connectivity matrix below it.

import { h, s } from "../dom.js";
import { areaGraph, areaLayout, connectivityMatrix, isMultiArea } from "../logic/areas.js";

const W = 520;
const COLOURS = { input: "#8a94a3", area: "#1f77b4", output: "#2ca02c" };

export class AreaDiagram {
  constructor(container) {
    this.root = h("div", { class: "area-diagram", "data-testid": "area-diagram", hidden: true });
    container.append(this.root);
  }

  /** Redraw from a policy spec (hidden unless it is a multi-area policy). */
  draw(policy) {
    if (!isMultiArea(policy)) {
      this.root.hidden = true;
      this.root.replaceChildren();
      return;
    }
    this.root.hidden = false;
    const g = areaGraph(policy);
    const { pos, height } = areaLayout(g, W);
    const defs = s("defs");
    const marker = s("marker", { id: "area-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#555" }));
    defs.append(marker);
    const svg = s("svg", { class: "drawing", viewBox: `0 0 ${W} ${height}`, style: `height:${height}px;max-width:100%`, role: "img", "aria-label": "areas and connections" });
    svg.append(defs);
    for (const e of g.edges) {
      const a = pos[e.from], b = pos[e.to];
      if (!a || !b) continue;
      const back = g.edges.some((x) => x.from === e.to && x.to === e.from);
      const bend = back ? 22 : 0; // a pair of opposite projections: two arcs
      const mx = (a.x + b.x) / 2 - ((b.y - a.y) / (Math.hypot(b.x - a.x, b.y - a.y) || 1)) * bend;
      const my = (a.y + b.y) / 2 + ((b.x - a.x) / (Math.hypot(b.x - a.x, b.y - a.y) || 1)) * bend;
      const [sx, sy] = shrink(a, mx, my, 30), [ex, ey] = shrink(b, mx, my, 34);
      const path = s("path", {
        d: `M ${sx} ${sy} Q ${mx} ${my} ${ex} ${ey}`,
        fill: "none",
        stroke: e.kind === "area" ? "#555" : COLOURS[e.kind],
        "stroke-width": e.kind === "area" ? 2 : 1.3,
        "stroke-dasharray": e.kind === "area" && e.density < 1 ? "5 3" : null,
        "marker-end": "url(#area-arrow)",
        "data-edge": `${e.from.replace(/^\w+:/, "")}->${e.to.replace(/^\w+:/, "")}`,
      });
      svg.append(path);
      if (e.kind === "area" && (e.delay || e.density < 1)) {
        const label = [e.delay ? `+${Math.round(e.delay * 1000)} ms` : "", e.density < 1 ? `${Math.round(e.density * 100)}%` : ""].filter(Boolean).join(", ");
        const t = s("text", { x: mx, y: my - 4, "text-anchor": "middle", "font-size": 11, fill: "#333" });
        t.textContent = label;
        svg.append(t);
      }
    }
    for (const n of g.inputs) svg.append(node(pos[n.id], n.name, "", COLOURS.input, { "data-input": n.name }, 8));
    for (const a of g.areas) {
      const sub = `${a.kind} · ${a.size}${a.tau ? ` · τ ${Math.round(a.tau * 1000)} ms` : ""}`;
      svg.append(node(pos[a.id], a.name, sub, COLOURS.area, { "data-area": a.name }, 14));
    }
    if (g.muscles) svg.append(node(pos.muscles, "muscles", "", COLOURS.output, { "data-output": "muscles" }, 8));
    const m = connectivityMatrix(policy);
    const table = h(
      "table",
      { class: "small area-matrix", "data-testid": "area-matrix" },
      h("caption", { class: "muted" }, "rows receive from columns (↺ own recurrence; delays beyond one step in ms)"),
      h("thead", {}, h("tr", {}, h("th", {}, "to \\ from"), ...m.cols.map((c) => h("th", {}, c)))),
      h("tbody", {}, ...m.rows.map((r) => h("tr", { "data-row": r.name }, h("th", {}, r.name), ...r.cells.map((c) => h("td", {}, c)))))
    );
    const note = h(
      "p",
      { class: "small muted", "data-testid": "area-summary" },
      `${g.areas.length} area${g.areas.length === 1 ? "" : "s"}, ${g.units} units${g.dale ? ", Dale's law (excitatory and inhibitory units)" : ""}`
    );
    const problems = g.problems.length ? h("p", { class: "warnbox small" }, g.problems.join("; ")) : null;
    this.root.replaceChildren(h("h3", {}, "Areas and connections"), svg, note, table, ...(problems ? [problems] : []));
  }
}

function shrink(p, qx, qy, by) {
  const d = Math.hypot(qx - p.x, qy - p.y) || 1;
  return [p.x + ((qx - p.x) / d) * Math.min(by, d / 2), p.y + ((qy - p.y) / d) * Math.min(by, d / 2)];
}

function node(p, title, sub, colour, attrs, pad) {
  const g = s("g", attrs);
  const w = Math.max(60, title.length * 7.5 + pad * 2);
  g.append(s("rect", { x: p.x - w / 2, y: p.y - 18, width: w, height: 36, rx: 8, fill: "#fff", stroke: colour, "stroke-width": 2 }));
  const t = s("text", { x: p.x, y: sub ? p.y - 2 : p.y + 4, "text-anchor": "middle", "font-size": 12, "font-weight": 600, fill: "#222" });
  t.textContent = title;
  g.append(t);
  if (sub) {
    const u = s("text", { x: p.x, y: p.y + 12, "text-anchor": "middle", "font-size": 10, fill: "#555" });
    u.textContent = sub;
    g.append(u);
  }
  return g;
}
