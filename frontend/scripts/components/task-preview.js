// A small drawing of the effector at the task's start posture with the task's targets and the
// reachable workspace. A task with targets is drawn zoomed to them (the arm runs out of the view
// where it must), with an inset of the whole workspace and a scale bar.

import { s } from "../dom.js";
import { bounds, jointPositions, scaleBar, viewTransform } from "../logic/geometry.js";
import { previewBox, taskLayout, workspace } from "../logic/task.js";

const H = 300;
const INSET = { w: 130, h: 92 };

export class TaskPreview {
  constructor(container) {
    this.svg = s("svg", { class: "drawing", viewBox: `0 0 480 ${H}`, style: "height:300px", "data-testid": "task-preview" });
    container.append(this.svg);
    this.wsCache = new Map();
    // Redraw at the new width when the panel is resized.
    this.width = 0;
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => {
        const w = Math.round(this.svg.getBoundingClientRect().width);
        if (this.spec && w && w !== this.width) this.draw(this.spec);
      }).observe(this.svg);
    }
  }

  draw(spec) {
    this.spec = spec;
    let layout;
    let cloud;
    let joints;
    try {
      const sk = spec.effector.skeleton;
      const key = JSON.stringify(sk);
      if (!this.wsCache.has(key)) this.wsCache.set(key, workspace(sk));
      cloud = this.wsCache.get(key);
      layout = taskLayout(spec.task, spec.effector);
      joints = jointPositions(sk, layout.q);
    } catch {
      this.svg.replaceChildren();
      return;
    }
    // The drawing's units are the element's pixels (the whole panel width, no letterboxing).
    const W = Math.max(320, Math.round(this.svg.getBoundingClientRect().width || 480));
    this.svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    this.width = W;
    const isArm = spec.effector.skeleton.kind !== "point_mass";
    const whole = bounds([...cloud, ...layout.targets, [0, 0], ...joints], 0.08);
    const zoom = previewBox(layout);
    const { toScreen, scale } = viewTransform(zoom ?? whole, W, H);
    const out = [];
    if (!zoom) for (const p of cloud) out.push(dot(toScreen(p), 1.3, "#d5dbe5"));
    const jp = joints.map(toScreen);
    if (isArm) out.push(...bones(jp, 5));
    else out.push(dot(jp[jp.length - 1], 7, "#3b4458"));
    const [sx, sy] = toScreen(layout.start);
    if (layout.ring) out.push(s("circle", { cx: sx, cy: sy, r: layout.ring.radius * scale, fill: "none", stroke: "#2f6fdf", "stroke-dasharray": "4 3" }));
    for (const t of layout.targets) {
      const [x, y] = toScreen(t);
      out.push(s("line", { x1: sx, y1: sy, x2: x, y2: y, stroke: "#c3cad5", "stroke-dasharray": "3 3" }));
      out.push(s("circle", { cx: x, cy: y, r: 6, fill: "none", stroke: "#c5221f", "stroke-width": 2 }));
    }
    out.push(dot([sx, sy], 4, "#2f6fdf"));
    if (zoom) out.push(this.inset(cloud, joints, layout, zoom, isArm, whole, W - INSET.w - 8, 8));
    out.push(...scale_(scale, W));
    const label = s("text", { x: 8, y: H - 8, fill: "#5f6b7a", "font-size": 11, "data-testid": "preview-label" });
    const what = spec.task.kind === "centre_out" ? `${layout.targets.length} targets at ${spec.task.radius} m` : spec.task.kind.replace(/_/g, " ");
    label.textContent = zoom ? `${what} · inset: whole workspace` : `${what} · grey: reachable workspace`;
    out.push(label);
    this.svg.replaceChildren(...out);
  }

  /** The whole workspace (grey), the effector and the targets, with the zoomed region framed. */
  inset(cloud, joints, layout, zoom, isArm, whole, x0, y0) {
    const pad = 4;
    const view = viewTransform(whole, INSET.w - 2 * pad, INSET.h - 2 * pad);
    const at = (p) => {
      const [x, y] = view.toScreen(p);
      return [x0 + pad + x, y0 + pad + y];
    };
    const g = s("g", { "data-testid": "task-preview-inset" });
    g.append(s("rect", { x: x0, y: y0, width: INSET.w, height: INSET.h, fill: "#fff", stroke: "#c3cad5", rx: 4 }));
    for (const p of cloud) g.append(dot(at(p), 0.8, "#d5dbe5"));
    const jp = joints.map(at);
    if (isArm) g.append(...bones(jp, 2));
    else g.append(dot(jp[jp.length - 1], 2.5, "#3b4458"));
    for (const t of layout.targets) g.append(dot(at(t), 1.2, "#c5221f"));
    const [a, b] = [at(zoom[0]), at(zoom[1])];
    g.append(s("rect", { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(b[0] - a[0]), height: Math.abs(b[1] - a[1]), fill: "none", stroke: "#2f6fdf", "stroke-width": 1.2 }));
    return g;
  }
}

function dot([cx, cy], r, fill) {
  return s("circle", { cx, cy, r, fill });
}

function bones(jp, width) {
  const out = [];
  for (let i = 0; i + 1 < jp.length; i++) out.push(s("line", { class: "bone", x1: jp[i][0], y1: jp[i][1], x2: jp[i + 1][0], y2: jp[i + 1][1], style: `stroke-width:${width}` }));
  return out;
}

/** A scale bar in the bottom-right corner. */
function scale_(pxPerMetre, W) {
  const bar = scaleBar(pxPerMetre, 70);
  const x1 = W - 10;
  const x0 = x1 - bar.px;
  const y = H - 12;
  const text = s("text", { x: (x0 + x1) / 2, y: y - 5, fill: "#3b4458", "font-size": 11, "text-anchor": "middle", "data-testid": "scale-bar" });
  text.textContent = bar.label;
  return [s("path", { d: `M${x0},${y - 4}V${y}H${x1}V${y - 4}`, fill: "none", stroke: "#3b4458", "stroke-width": 1.5 }), text];
}
