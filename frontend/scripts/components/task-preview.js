// A small drawing of the effector at the task's start posture with the task's targets and the
// reachable workspace.

import { s } from "../dom.js";
import { bounds, jointPositions, viewTransform } from "../logic/geometry.js";
import { taskLayout, workspace } from "../logic/task.js";

const W = 480;
const H = 300;

export class TaskPreview {
  constructor(container) {
    this.svg = s("svg", { class: "drawing", viewBox: `0 0 ${W} ${H}`, style: "height:300px", "data-testid": "task-preview" });
    container.append(this.svg);
    this.wsCache = new Map();
  }

  draw(spec) {
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
    const box = bounds([...cloud, ...layout.targets, [0, 0], ...joints], 0.08);
    const { toScreen, scale } = viewTransform(box, W, H);
    const out = [];
    for (const p of cloud) {
      const [x, y] = toScreen(p);
      out.push(s("circle", { cx: x, cy: y, r: 1.3, fill: "#d5dbe5" }));
    }
    const jp = joints.map(toScreen);
    if (spec.effector.skeleton.kind !== "point_mass") {
      for (let i = 0; i + 1 < jp.length; i++) out.push(s("line", { class: "bone", x1: jp[i][0], y1: jp[i][1], x2: jp[i + 1][0], y2: jp[i + 1][1], style: "stroke-width:5" }));
    }
    const [sx, sy] = toScreen(layout.start);
    if (layout.ring) out.push(s("circle", { cx: sx, cy: sy, r: layout.ring.radius * scale, fill: "none", stroke: "#2f6fdf", "stroke-dasharray": "4 3" }));
    for (const t of layout.targets) {
      const [x, y] = toScreen(t);
      out.push(s("line", { x1: sx, y1: sy, x2: x, y2: y, stroke: "#c3cad5", "stroke-dasharray": "3 3" }));
      out.push(s("circle", { cx: x, cy: y, r: 6, fill: "none", stroke: "#c5221f", "stroke-width": 2 }));
    }
    out.push(s("circle", { cx: sx, cy: sy, r: 4, fill: "#2f6fdf" }));
    const label = s("text", { x: 8, y: H - 8, fill: "#5f6b7a", "font-size": 11 });
    label.textContent =
      spec.task.kind === "centre_out" ? `${layout.targets.length} targets at ${spec.task.radius} m · grey: reachable workspace` : `${spec.task.kind.replace(/_/g, " ")} · grey: reachable workspace`;
    out.push(label);
    this.svg.replaceChildren(...out);
  }
}
