// SVG drawing of an effector at a posture: bones, joints, world anchors and muscle paths.
// The selected muscle's path points can be dragged; a drag reports body-frame coordinates.

import { colour, s } from "../dom.js";
import { bodyFrames, bounds, dragPoint, jointPositions, pathWorldPoints, viewTransform } from "../logic/geometry.js";

const W = 600;
const H = 380;

export class SkeletonDrawing {
  /** opts.onDrag(muscleIndex, pointIndex, point, done) is called while dragging and once at the end (done = true). */
  constructor(container, { onDrag = () => {}, onSelect = () => {} } = {}) {
    this.svg = s("svg", { class: "drawing", viewBox: `0 0 ${W} ${H}`, "data-testid": "skeleton-svg" });
    container.append(this.svg);
    this.onDrag = onDrag;
    this.onSelect = onSelect;
    this.drag = null;
    this.box = null;
    this.svg.addEventListener("pointermove", (e) => this.move(e));
    this.svg.addEventListener("pointerup", (e) => this.end(e));
    this.svg.addEventListener("pointercancel", (e) => this.end(e));
  }

  /** Draw spec at joint angles q with muscle `selected` highlighted. */
  draw(spec, q, selected) {
    this.spec = spec;
    this.q = q;
    this.selected = selected;
    const frames = bodyFrames(spec.skeleton, q);
    this.frames = frames;
    const joints = jointPositions(spec.skeleton, q);
    const paths = spec.muscles.map((m) => pathWorldPoints(m, frames));
    if (!this.drag) {
      // Keep the view fixed while dragging so the point stays under the pointer.
      const all = [...joints, [0, 0], ...paths.flat()];
      this.box = bounds(all, 0.12);
    }
    this.view = viewTransform(this.box, W, H);
    const { toScreen } = this.view;
    const g = [];
    g.push(...this.grid());
    const isPoint = spec.skeleton.kind === "point_mass";
    const jp = joints.map(toScreen);
    if (!isPoint) {
      g.push(s("rect", { x: jp[0][0] - 14, y: jp[0][1] - 6, width: 28, height: 12, class: "anchor", rx: 2 }));
      for (let i = 0; i + 1 < jp.length; i++) g.push(s("line", { class: "bone", x1: jp[i][0], y1: jp[i][1], x2: jp[i + 1][0], y2: jp[i + 1][1] }));
      jp.forEach(([x, y], i) => g.push(s("circle", { class: "joint", cx: x, cy: y, r: i === jp.length - 1 ? 4 : 6 })));
    } else {
      g.push(s("circle", { class: "joint", cx: jp[0][0], cy: jp[0][1], r: 10, fill: "#3b4458" }));
    }
    const n = spec.muscles.length;
    spec.muscles.forEach((m, i) => {
      if (i === selected) return;
      g.push(...this.muscleShapes(paths[i], m, i, n, false));
    });
    if (paths[selected]) g.push(...this.muscleShapes(paths[selected], spec.muscles[selected], selected, n, true));
    if (spec.muscles.every((m) => m.geometry.kind !== "path")) {
      const note = s("text", { x: W - 8, y: H - 8, fill: "#8a93a6", "font-size": 11, "text-anchor": "end" });
      note.textContent = `${spec.muscles[0].geometry.kind} geometry: muscles have no drawn path (see the plots)`;
      g.push(note);
    }
    this.svg.replaceChildren(...g);
  }

  grid() {
    const { toScreen } = this.view;
    const [[x0, y0], [x1, y1]] = this.box;
    const span = Math.max(x1 - x0, y1 - y0);
    const step = span > 2 ? 1 : span > 0.6 ? 0.1 : 0.05;
    const out = [];
    for (let x = Math.ceil(x0 / step) * step; x <= x1; x += step) {
      const [sx] = toScreen([x, 0]);
      out.push(s("line", { x1: sx, y1: 0, x2: sx, y2: H, stroke: "#eef1f5" }));
    }
    for (let y = Math.ceil(y0 / step) * step; y <= y1; y += step) {
      const [, sy] = toScreen([0, y]);
      out.push(s("line", { x1: 0, y1: sy, x2: W, y2: sy, stroke: "#eef1f5" }));
    }
    const [ox, oy] = toScreen([0, 0]);
    out.push(s("line", { x1: ox - 8, y1: oy, x2: ox + 8, y2: oy, stroke: "#c3cad5" }));
    out.push(s("line", { x1: ox, y1: oy - 8, x2: ox, y2: oy + 8, stroke: "#c3cad5" }));
    const label = s("text", { x: 8, y: H - 8, fill: "#8a93a6", "font-size": 11 });
    label.textContent = `grid ${step} m`;
    out.push(label);
    return out;
  }

  muscleShapes(points, muscle, i, n, sel) {
    if (!points.length) return [];
    const { toScreen } = this.view;
    const sp = points.map(toScreen);
    const c = colour(i, n);
    const out = [
      s("polyline", {
        class: `muscle${sel ? " sel" : ""}`,
        points: sp.map((p) => p.join(",")).join(" "),
        stroke: c,
        "data-muscle": i,
      }),
    ];
    out[0].addEventListener("click", () => this.onSelect(i));
    sp.forEach(([x, y], j) => {
      const body = muscle.geometry.points[j].body;
      const dot = s("circle", {
        class: `pt${sel ? " sel" : ""}`,
        cx: x,
        cy: y,
        r: sel ? 7 : 3.5,
        fill: body === 0 ? "#8a93a6" : c,
        "data-muscle": i,
        "data-point": j,
        "data-testid": sel ? `path-point-${j}` : undefined,
      });
      if (sel) {
        const title = s("title");
        title.textContent = `${muscle.name} point ${j + 1} on body ${body}${body === 0 ? " (world)" : ""}: drag to move`;
        dot.append(title);
        dot.addEventListener("pointerdown", (e) => this.start(e, i, j, dot));
      } else dot.addEventListener("click", () => this.onSelect(i));
      out.push(dot);
    });
    return out;
  }

  toWorld(e) {
    const r = this.svg.getBoundingClientRect();
    // viewBox is scaled uniformly ("meet"): find the drawing's offset inside the element.
    const k = Math.min(r.width / W, r.height / H);
    const ox = (r.width - W * k) / 2;
    const oy = (r.height - H * k) / 2;
    return this.view.toWorld([(e.clientX - r.left - ox) / k, (e.clientY - r.top - oy) / k]);
  }

  start(e, i, j, dot) {
    e.preventDefault();
    this.svg.setPointerCapture?.(e.pointerId);
    dot.classList.add("dragging");
    this.drag = { i, j };
  }

  move(e) {
    if (!this.drag) return;
    const { i, j } = this.drag;
    const p = dragPoint(this.spec.muscles[i], j, this.toWorld(e), this.frames);
    this.onDrag(i, j, p, false);
  }

  end(e) {
    if (!this.drag) return;
    const { i, j } = this.drag;
    const p = dragPoint(this.spec.muscles[i], j, this.toWorld(e), this.frames);
    this.drag = null;
    this.onDrag(i, j, p, true);
  }
}
