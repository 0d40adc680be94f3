// Editing operations on an EffectorSpec (plain JSON). Pure: each returns a new spec.

import { dof, nBodies, pathLength, referencePosture } from "./geometry.js";

export const SKELETON_CHOICES = [
  { id: "point_mass", label: "Point mass" },
  { id: "two_link_arm", label: "Two-link arm" },
  { id: "three_link_arm", label: "Three-link arm" },
];

const THREE_LINKS = [
  { mass: 1.96, length: 0.3255, com: 0.1419, inertia: 0.021, pos_lower_bound: 0.0, pos_upper_bound: 2.356 },
  { mass: 1.12, length: 0.2555, com: 0.1099, inertia: 0.006, pos_lower_bound: 0.0, pos_upper_bound: 2.705 },
  { mass: 0.42, length: 0.189, com: 0.0956, inertia: 0.0013, pos_lower_bound: -1.222, pos_upper_bound: 1.396 },
];

/** Which skeleton choice a spec is ("three_link_arm" for a planar arm of any length). */
export function skeletonChoice(skeleton) {
  return skeleton.kind === "planar_arm" ? "three_link_arm" : skeleton.kind;
}

/** Default skeleton for a builder choice. */
export function defaultSkeleton(choice) {
  if (choice === "point_mass") return { kind: "point_mass", mass: 1.0 };
  if (choice === "two_link_arm") return { kind: "two_link_arm" };
  if (choice === "three_link_arm") return { kind: "planar_arm", links: THREE_LINKS.map((l) => ({ ...l })), c_viscosity: 0 };
  throw new Error(`unknown skeleton ${choice}`);
}

function fitList(list, n, fill) {
  const out = (list ?? []).slice(0, n);
  while (out.length < n) out.push(fill);
  return out;
}

/** Make a muscle's geometry fit a skeleton (bodies in range, one coefficient per joint). */
export function fitGeometry(geometry, skeleton) {
  const n = dof(skeleton);
  const nb = nBodies(skeleton);
  if (geometry.kind === "path") {
    const points = geometry.points.map((p) => ({ ...p, body: Math.min(p.body, nb - 1) }));
    if (points.every((p) => p.body === points[0].body)) points[points.length - 1].body = points[0].body === 0 ? 1 : 0;
    return { ...geometry, points };
  }
  if (geometry.kind === "polynomial") {
    return { ...geometry, a1: fitList(geometry.a1, n, 0), a2: fitList(geometry.a2, n, 0), a3: fitList(geometry.a3, n, 0) };
  }
  if (geometry.kind === "constant") return { ...geometry, moment_arms: fitList(geometry.moment_arms, n, 0) };
  return geometry;
}

/** Replace the skeleton by a builder choice, fitting every muscle's geometry to it. */
export function setSkeleton(spec, choice) {
  const skeleton = defaultSkeleton(choice);
  return { ...spec, skeleton, muscles: spec.muscles.map((m) => ({ ...m, geometry: fitGeometry(m.geometry, skeleton) })) };
}

/** A name not yet used by any muscle ("muscle 3", "biceps 2", ...). */
export function uniqueName(spec, base = "muscle") {
  const names = new Set(spec.muscles.map((m) => m.name));
  if (!names.has(base)) return base;
  const stem = base.replace(/ \d+$/, "");
  for (let i = 2; ; i++) if (!names.has(`${stem} ${i}`)) return `${stem} ${i}`;
}

/** A geometry for a new muscle: a path from the world to the last body, else a copy of a neighbour's. */
function newGeometry(spec, template) {
  if (template && template.geometry.kind !== "path") return JSON.parse(JSON.stringify(template.geometry));
  const last = nBodies(spec.skeleton) - 1;
  return {
    kind: "path",
    points: [
      { body: 0, x: 0.05, y: 0.05 },
      { body: last, x: spec.skeleton.kind === "point_mass" ? 0 : 0.05, y: 0 },
    ],
  };
}

/** The median share of optimal fibre length in l0_ce + l0_se over a spec's muscles (0.55 without any). */
export function fibreShare(spec) {
  const shares = spec.muscles
    .filter((m) => m.optimal_length > 0 && m.tendon_slack_length >= 0)
    .map((m) => m.optimal_length / (m.optimal_length + m.tendon_slack_length))
    .sort((a, b) => a - b);
  if (!shares.length) return 0.55;
  const mid = Math.floor(shares.length / 2);
  return shares.length % 2 ? shares[mid] : (shares[mid - 1] + shares[mid]) / 2;
}

/**
 * Size a muscle with fibres to its path: optimal fibre length + tendon slack length = its
 * musculotendon length at the reference posture, split by `share` (so its fibres sit at their
 * optimal length there). Muscles without fibres (relu) or path geometry are returned as they are.
 */
export function sizeToPath(muscle, skeleton, share) {
  if (muscle.optimal_length === undefined || muscle.tendon_slack_length === undefined) return muscle;
  const length = pathLength(muscle, skeleton, referencePosture(skeleton));
  if (!(length > 0)) return muscle;
  const round = (x) => Math.round(x * 1e4) / 1e4;
  const optimal = round(share * length);
  return { ...muscle, optimal_length: optimal, tendon_slack_length: round(length - optimal) };
}

/** Add a muscle (same model and parameters as the last one, new name, a simple path, sized to it). */
export function addMuscle(spec) {
  const template = spec.muscles[spec.muscles.length - 1];
  const base = template ? JSON.parse(JSON.stringify(template)) : { kind: "relu", max_iso_force: 500 };
  const muscle = { ...base, name: uniqueName(spec, "muscle"), geometry: newGeometry(spec, template) };
  const sized = template && template.geometry.kind === "path" ? sizeToPath(muscle, spec.skeleton, fibreShare(spec)) : muscle;
  return { ...spec, muscles: [...spec.muscles, sized] };
}

/** Remove muscle i (an effector keeps at least one). */
export function removeMuscle(spec, i) {
  if (spec.muscles.length <= 1) return spec;
  return { ...spec, muscles: spec.muscles.filter((_, j) => j !== i) };
}

/** Apply a function to every muscle (all muscles share one model and geometry kind). */
export function mapMuscles(spec, fn) {
  return { ...spec, muscles: spec.muscles.map(fn) };
}

/** Add a path point after point j of muscle i, halfway to the next one (same body as point j). */
export function addPathPoint(spec, i, j) {
  return mapMuscles(spec, (m, k) => {
    if (k !== i || m.geometry.kind !== "path") return m;
    const pts = m.geometry.points;
    const p = pts[j];
    const q = pts[j + 1];
    const np = q && q.body === p.body ? { body: p.body, x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } : { body: p.body, x: p.x + 0.02, y: p.y + 0.02 };
    return { ...m, geometry: { ...m.geometry, points: [...pts.slice(0, j + 1), np, ...pts.slice(j + 1)] } };
  });
}

/** Remove path point j of muscle i (a path keeps at least two). */
export function removePathPoint(spec, i, j) {
  return mapMuscles(spec, (m, k) => {
    if (k !== i || m.geometry.kind !== "path" || m.geometry.points.length <= 2) return m;
    return { ...m, geometry: { ...m.geometry, points: m.geometry.points.filter((_, n) => n !== j) } };
  });
}

/** Set path point j of muscle i. */
export function setPathPoint(spec, i, j, point) {
  return mapMuscles(spec, (m, k) => {
    if (k !== i) return m;
    const points = m.geometry.points.map((p, n) => (n === j ? point : p));
    return { ...m, geometry: { ...m.geometry, points } };
  });
}

/** A copy named "<name> copy". */
export function duplicate(spec) {
  return { ...JSON.parse(JSON.stringify(spec)), name: `${spec.name} copy`.slice(0, 128) };
}
