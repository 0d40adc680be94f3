// Planar kinematics and drawing transforms for the effector builder. Pure functions.
//
// A frame is {origin: [x, y], angle} (world coordinates, metres, radians). Body 0 is the world;
// body i is segment i (or the point mass), with its x axis along the segment.

/** Segment lengths of a skeleton spec ([] for a point mass). */
export function linkLengths(skeleton) {
  if (skeleton.kind === "two_link_arm") return [skeleton.L1 ?? 0.309, skeleton.L2 ?? 0.26];
  if (skeleton.kind === "planar_arm") return (skeleton.links ?? []).map((l) => l.length);
  return [];
}

/** Number of joint degrees of freedom. */
export function dof(skeleton) {
  return skeleton.kind === "point_mass" ? 2 : linkLengths(skeleton).length;
}

/** Number of bodies a path point may sit on (world included). */
export function nBodies(skeleton) {
  return skeleton.kind === "point_mass" ? 2 : linkLengths(skeleton).length + 1;
}

/** Joint limits [[lo, hi], ...] of an arm (point mass: position bounds). */
export function jointLimits(skeleton) {
  if (skeleton.kind === "planar_arm") return skeleton.links.map((l) => [l.pos_lower_bound ?? 0, l.pos_upper_bound ?? 2.6]);
  const lo = skeleton.pos_lower_bound ?? (skeleton.kind === "point_mass" ? [-1, -1] : [0, 0]);
  const hi = skeleton.pos_upper_bound ?? (skeleton.kind === "point_mass" ? [1, 1] : [2.44, 2.79]);
  return lo.map((l, i) => [l, hi[i]]);
}

/** A reference posture: mid-range for each joint of an arm, the origin for a point mass. */
export function referencePosture(skeleton) {
  if (skeleton.kind === "point_mass") return [0, 0];
  return jointLimits(skeleton).map(([lo, hi]) => (lo + hi) / 2);
}

/** Frames of every body at joint angles q (q absolute for the first joint, relative after). */
export function bodyFrames(skeleton, q) {
  const frames = [{ origin: [0, 0], angle: 0 }];
  if (skeleton.kind === "point_mass") {
    frames.push({ origin: [q[0] ?? 0, q[1] ?? 0], angle: 0 });
    return frames;
  }
  const lengths = linkLengths(skeleton);
  let origin = [0, 0];
  let angle = 0;
  for (let i = 0; i < lengths.length; i++) {
    angle += q[i] ?? 0;
    frames.push({ origin: origin.slice(), angle });
    origin = [origin[0] + lengths[i] * Math.cos(angle), origin[1] + lengths[i] * Math.sin(angle)];
  }
  return frames;
}

/** Joint positions [shoulder, elbow, ..., tip] (point mass: [mass position]). */
export function jointPositions(skeleton, q) {
  const frames = bodyFrames(skeleton, q);
  if (skeleton.kind === "point_mass") return [frames[1].origin];
  const lengths = linkLengths(skeleton);
  const pts = frames.slice(1).map((f) => f.origin);
  const last = frames[frames.length - 1];
  const L = lengths[lengths.length - 1];
  pts.push([last.origin[0] + L * Math.cos(last.angle), last.origin[1] + L * Math.sin(last.angle)]);
  return pts;
}

/** Body-frame point -> world. */
export function bodyToWorld(frame, p) {
  const c = Math.cos(frame.angle);
  const s = Math.sin(frame.angle);
  return [frame.origin[0] + c * p[0] - s * p[1], frame.origin[1] + s * p[0] + c * p[1]];
}

/** World point -> body frame (inverse of bodyToWorld). */
export function worldToBody(frame, w) {
  const c = Math.cos(frame.angle);
  const s = Math.sin(frame.angle);
  const dx = w[0] - frame.origin[0];
  const dy = w[1] - frame.origin[1];
  return [c * dx + s * dy, -s * dx + c * dy];
}

/** World positions of a muscle's path points (path geometry only; [] otherwise). */
export function pathWorldPoints(muscle, frames) {
  const g = muscle.geometry;
  if (!g || g.kind !== "path") return [];
  return g.points.map((p) => bodyToWorld(frames[Math.min(p.body, frames.length - 1)] ?? frames[0], [p.x, p.y]));
}

/** Musculotendon length [m] of a path muscle at joint positions q (null for other geometries). */
export function pathLength(muscle, skeleton, q) {
  if (muscle.geometry?.kind !== "path") return null;
  const pts = pathWorldPoints(muscle, bodyFrames(skeleton, q));
  let length = 0;
  for (let i = 1; i < pts.length; i++) length += Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]);
  return length;
}

/** Bounding box [[xmin, ymin], [xmax, ymax]] of points, grown by a margin fraction (never empty). */
export function bounds(points, margin = 0.1) {
  if (points.length === 0) return [[-1, -1], [1, 1]];
  let [x0, y0] = points[0];
  let [x1, y1] = points[0];
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  const span = Math.max(x1 - x0, y1 - y0, 1e-3);
  const m = span * margin;
  return [[x0 - m, y0 - m], [x1 + m, y1 + m]];
}

/**
 * World <-> screen transform that fits a box in a width x height viewport with equal scale on both
 * axes (y up in the world, down on screen), centred.
 */
export function viewTransform(box, width, height) {
  const [[x0, y0], [x1, y1]] = box;
  const scale = Math.min(width / Math.max(x1 - x0, 1e-9), height / Math.max(y1 - y0, 1e-9));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return {
    scale,
    toScreen: ([x, y]) => [width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale],
    toWorld: ([sx, sy]) => [cx + (sx - width / 2) / scale, cy - (sy - height / 2) / scale],
  };
}

/** A length for a label: "1 m", "10 cm", "5 mm". */
export function lengthLabel(m) {
  const nice = (v) => String(Number(v.toPrecision(3)));
  if (m >= 1) return `${nice(m)} m`;
  if (m >= 0.01) return `${nice(m * 100)} cm`;
  return `${nice(m * 1000)} mm`;
}

/**
 * A scale bar near `targetPx` pixels long at `pxPerMetre`: {metres, px, label}, its length a
 * round 1, 2 or 5 x 10^k m.
 */
export function scaleBar(pxPerMetre, targetPx = 80) {
  const raw = targetPx / Math.max(pxPerMetre, 1e-12);
  const p = 10 ** Math.floor(Math.log10(raw));
  const metres = [1, 2, 5, 10].map((f) => Number((f * p).toPrecision(3))).reduce((best, v) => (Math.abs(Math.log(v / raw)) < Math.abs(Math.log(best / raw)) ? v : best));
  return { metres, px: metres * pxPerMetre, label: lengthLabel(metres) };
}

/** Round to a given number of decimals (for body coordinates written back into a spec). */
export function roundTo(x, decimals = 4) {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Move path point `index` of a muscle to a world position, keeping its body: returns new {x, y}. */
export function dragPoint(muscle, index, world, frames) {
  const p = muscle.geometry.points[index];
  const frame = frames[Math.min(p.body, frames.length - 1)];
  const [x, y] = worldToBody(frame, world);
  return { body: p.body, x: roundTo(x), y: roundTo(y) };
}
