// Where a task puts the hand: start position, targets and the reachable workspace. Pure.

import { jointLimits, jointPositions, referencePosture } from "./geometry.js";

/** Fingertip (or mass) position at joint position q. */
export function fingertip(skeleton, q) {
  const pts = jointPositions(skeleton, q);
  return pts[pts.length - 1];
}

/** Fingertip positions over a grid of joint positions (n per joint, at most ~2000 points). */
export function workspace(skeleton, n = 12) {
  const limits = jointLimits(skeleton);
  const per = Math.max(2, Math.min(n, Math.floor(2000 ** (1 / limits.length))));
  const out = [];
  const q = new Array(limits.length).fill(0);
  const walk = (j) => {
    if (j === limits.length) {
      out.push(fingertip(skeleton, q));
      return;
    }
    const [lo, hi] = limits[j];
    for (let i = 0; i < per; i++) {
      q[j] = lo + ((hi - lo) * i) / (per - 1);
      walk(j + 1);
    }
  };
  walk(0);
  return out;
}

/**
 * Start position and targets of a task for an effector: centre-out targets on a circle around the
 * start; tracking: the circle of its amplitude; others: no fixed targets.
 */
export function taskLayout(task, effector) {
  const sk = effector.skeleton;
  const q = task.centre_joint && task.centre_joint.length === referencePosture(sk).length ? task.centre_joint : referencePosture(sk);
  const start = fingertip(sk, q);
  const targets = [];
  if (task.kind === "centre_out") {
    const n = task.n_targets ?? 8;
    const r = task.radius ?? 0.1;
    for (let i = 0; i < n; i++) {
      const a = (2 * Math.PI * i) / n;
      targets.push([start[0] + r * Math.cos(a), start[1] + r * Math.sin(a)]);
    }
  }
  let ring = null;
  if (task.kind === "tracking") ring = { centre: start, radius: task.amplitude ?? 0.05 };
  return { start, q, targets, ring };
}

/**
 * The region a task preview zooms to: the start, the targets and a tracking ring, padded by
 * `margin` x their span on every side (the span at least `minSpan` m); null for a task without
 * fixed targets (the preview then shows the whole workspace).
 */
export function previewBox(layout, { margin = 0.35, minSpan = 0.05 } = {}) {
  const pts = [layout.start, ...layout.targets];
  if (layout.ring) {
    const [cx, cy] = layout.ring.centre;
    const r = layout.ring.radius;
    pts.push([cx - r, cy - r], [cx + r, cy + r]);
  }
  if (pts.length < 2) return null;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, minSpan);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const half = Math.max(x1 - x0, minSpan) / 2 + margin * span;
  const halfY = Math.max(y1 - y0, minSpan) / 2 + margin * span;
  return [[cx - half, cy - halfY], [cx + half, cy + halfY]];
}

/**
 * A run's name and tags after what it really uses: the preset's own when the spec keeps the
 * preset's effector and task kind, else "<effector> <task kind>" and the preset's tags with those
 * naming the preset's effector, skeleton or task kind replaced by the spec's.
 */
export function runLabels(preset, spec) {
  const sameEffector = JSON.stringify(preset.effector) === JSON.stringify(spec.effector);
  if (sameEffector && preset.task.kind === spec.task.kind) return { name: preset.name, tags: [...(preset.tags ?? [])] };
  const effector = spec.effector.name || spec.effector.skeleton.kind;
  const kind = spec.task.kind;
  const stale = new Set([preset.effector.name, preset.effector.skeleton.kind, preset.task.kind]);
  const tags = [...new Set([...(preset.tags ?? []).filter((t) => !stale.has(t)), effector, kind])].slice(0, 32);
  return { name: `${effector} ${kind}`.slice(0, 128), tags };
}

/**
 * Whether a stored task-designer draft ({preset, effector, task, spec}) should be restored for
 * the route's params: a draft is kept unless the route names another run preset.
 */
export function draftApplies(draft, params, presetNames) {
  if (!draft || typeof draft !== "object" || !draft.spec || !presetNames.includes(draft.preset)) return false;
  return !params.preset || params.preset === draft.preset;
}
