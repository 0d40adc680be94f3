// Canvas drawing of arms (or point masses), targets and hand paths, in world coordinates.

import { h } from "../dom.js";
import { bounds, scaleBar, viewTransform } from "../logic/geometry.js";

export class ArmCanvas {
  constructor(container, { testid = "arm-canvas", onClick = null } = {}) {
    this.canvas = h("canvas", { class: "arm", "data-testid": testid });
    container.append(this.canvas);
    this.box = [[-1, -1], [1, 1]];
    this.frames = 0;
    if (onClick) {
      this.canvas.style.cursor = "crosshair";
      this.canvas.addEventListener("click", (e) => {
        const r = this.canvas.getBoundingClientRect();
        onClick(this.view().toWorld([e.clientX - r.left, e.clientY - r.top]));
      });
    }
  }

  /** Fit the view to these world points. */
  fit(points, margin = 0.12) {
    this.box = bounds(points, margin);
  }

  view() {
    const r = this.canvas.getBoundingClientRect();
    return viewTransform(this.box, Math.max(r.width, 1), Math.max(r.height, 1));
  }

  /**
   * Draw a scene: {arms: [{joints [[x, y]...], colour, alpha, width}], targets: [{xy, colour}],
   * paths: [{points, colour}], pointMass: bool, labels: [text], anchors: [[x, y]] (fixed muscle
   * attachments, small squares), frame: [[x0, y0], [x1, y1]] (a dashed box: the point mass's
   * position bounds), scale: bool (a scale bar, bottom right), workspace: [quads] (counter-clockwise
   * [[x, y] x 4], shaded as one region under everything), trail: {points, colour} (the hand's path),
   * forces: [{at: [x, y], vec: [fx, fy] N, colour}] (arrows, 6 px per N up to 90 px), and paths with
   * dashed: true (stand-in muscle lines)}.
   */
  draw(scene) {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const r = c.getBoundingClientRect();
    if (c.width !== Math.round(r.width * dpr) || c.height !== Math.round(r.height * dpr)) {
      c.width = Math.round(r.width * dpr);
      c.height = Math.round(r.height * dpr);
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, r.width, r.height);
    const { toScreen, scale } = this.view();
    if (scene.workspace?.length) this.drawWorkspace(ctx, scene.workspace, toScreen, r);
    else this.canvas.dataset.workspace = "0";
    // origin cross
    const [ox, oy] = toScreen([0, 0]);
    ctx.strokeStyle = "#d5dbe5";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(ox - 10, oy);
    ctx.lineTo(ox + 10, oy);
    ctx.moveTo(ox, oy - 10);
    ctx.lineTo(ox, oy + 10);
    ctx.stroke();
    if (scene.frame) {
      const [a, b] = scene.frame.map(toScreen);
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = "#c3cad5";
      ctx.strokeRect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
      ctx.setLineDash([]);
    }
    for (const p of scene.paths ?? []) {
      if (p.points.length < 2) continue;
      ctx.strokeStyle = p.colour;
      ctx.globalAlpha = p.alpha ?? 0.8;
      ctx.lineWidth = p.dashed ? 2 : 1.5;
      ctx.setLineDash(p.dashed ? [6, 3] : []);
      ctx.beginPath();
      p.points.forEach((pt, i) => {
        const [x, y] = toScreen(pt);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    this.canvas.dataset.paths = String((scene.paths ?? []).filter((p) => p.points.length >= 2).length);
    if (scene.trail?.points?.length > 1) {
      ctx.strokeStyle = scene.trail.colour ?? "#2f6fdf";
      ctx.lineWidth = 2;
      ctx.globalAlpha = 0.8;
      ctx.beginPath();
      scene.trail.points.forEach((pt, i) => {
        const [x, y] = toScreen(pt);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.stroke();
      ctx.globalAlpha = 1;
      this.canvas.dataset.trail = String(scene.trail.points.length);
    } else this.canvas.dataset.trail = "0";
    ctx.fillStyle = "#8a93a6";
    for (const a of scene.anchors ?? []) {
      const [x, y] = toScreen(a);
      ctx.fillRect(x - 3.5, y - 3.5, 7, 7);
    }
    for (const t of scene.targets ?? []) {
      const [x, y] = toScreen(t.xy);
      ctx.strokeStyle = t.colour ?? "#c5221f";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, Math.max(5, (t.radius ?? 0) * scale), 0, 2 * Math.PI);
      ctx.stroke();
    }
    for (const a of scene.arms ?? []) {
      const pts = a.joints.map(toScreen);
      ctx.globalAlpha = a.alpha ?? 1;
      if (scene.pointMass) {
        ctx.fillStyle = a.colour ?? "#3b4458";
        ctx.beginPath();
        ctx.arc(pts[0][0], pts[0][1], a.radius ?? 8, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.strokeStyle = a.colour ?? "#3b4458";
      ctx.lineWidth = a.width ?? 6;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.stroke();
      ctx.fillStyle = "#fff";
      ctx.lineWidth = 2;
      for (const [x, y] of pts.slice(0, -1)) {
        ctx.beginPath();
        ctx.arc(x, y, (a.width ?? 6) * 0.6, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    for (const f of scene.forces ?? []) this.drawArrow(ctx, toScreen(f.at), f.vec, f.colour ?? "#b26a00");
    ctx.fillStyle = "#5f6b7a";
    ctx.font = "12px system-ui, sans-serif";
    (scene.labels ?? []).forEach((text, i) => ctx.fillText(text, 8, 16 + 15 * i));
    if (scene.scale) this.drawScale(ctx, scale, r.width, r.height);
    this.frames += 1;
    this.canvas.dataset.frames = String(this.frames);
  }

  /** The reachable workspace: one light fill of every quad, under everything (drawn once per view into a cached bitmap). */
  drawWorkspace(ctx, quads, toScreen, r) {
    const dpr = window.devicePixelRatio || 1;
    const key = `${r.width}x${r.height}@${dpr}:${JSON.stringify(this.box)}:${quads.length}:${quads[0]?.[0]}`;
    if (this.wsKey !== key || !this.wsBitmap) {
      const bitmap = document.createElement("canvas");
      bitmap.width = Math.max(1, Math.round(r.width * dpr));
      bitmap.height = Math.max(1, Math.round(r.height * dpr));
      const b = bitmap.getContext("2d");
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      const path = new Path2D();
      for (const q of quads) {
        q.forEach((pt, i) => {
          const [x, y] = toScreen(pt);
          if (i === 0) path.moveTo(x, y);
          else path.lineTo(x, y);
        });
        path.closePath();
      }
      b.fillStyle = "#e6eefb";
      b.strokeStyle = "#e6eefb";
      b.lineWidth = 1;
      b.fill(path, "nonzero");
      b.stroke(path); // closes the hairline seams between neighbouring quads
      this.wsBitmap = bitmap;
      this.wsKey = key;
    }
    ctx.drawImage(this.wsBitmap, 0, 0, r.width, r.height);
    this.canvas.dataset.workspace = String(quads.length);
  }

  /** An arrow from a screen point along a force [N] (y up), 6 px per N, at most 90 px. */
  drawArrow(ctx, [x, y], [fx, fy], colour) {
    const n = Math.hypot(fx, fy);
    if (!(n > 1e-6)) return;
    const len = Math.min(90, 6 * n);
    const ux = fx / n;
    const uy = -fy / n;
    const x1 = x + ux * len;
    const y1 = y + uy * len;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - ux * 9 - uy * 5, y1 - uy * 9 + ux * 5);
    ctx.lineTo(x1 - ux * 9 + uy * 5, y1 - uy * 9 - ux * 5);
    ctx.closePath();
    ctx.fill();
  }

  /** A scale bar (a round length near 80 px) in the bottom-right corner. */
  drawScale(ctx, pxPerMetre, width, height) {
    const bar = scaleBar(pxPerMetre, 80);
    const x1 = width - 12;
    const x0 = x1 - bar.px;
    const y = height - 12;
    ctx.strokeStyle = "#3b4458";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x0, y - 5);
    ctx.lineTo(x0, y);
    ctx.lineTo(x1, y);
    ctx.lineTo(x1, y - 5);
    ctx.stroke();
    ctx.fillStyle = "#3b4458";
    ctx.textAlign = "center";
    ctx.fillText(bar.label, (x0 + x1) / 2, y - 7);
    ctx.textAlign = "start";
    this.canvas.dataset.scale = bar.label;
  }
}
