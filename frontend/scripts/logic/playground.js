// Playground teaching logic, pure (no DOM): the hand-path trail, the reachable workspace's
// quadrilaterals, stand-in muscle lines from moment arms, explanations that fit an effector, the
// load toggles as the core's perturbation specs, and the shareable link (values, locked and hidden controls).

/** Controls a shared link can lock (shown, not editable) or hide, in the share dialog's order. */
export const SHARE_CONTROLS = [
  ["source", "Drive menu (effector or run)"],
  ["muscles", "muscle sliders"],
  ["curl", "curl field"],
  ["load", "endpoint load"],
  ["trail", "hand-path trail"],
  ["workspace", "reachable workspace"],
  ["step", "pause and single step"],
  ["reset", "reset and relax buttons"],
  ["explain", "explanation panel"],
  ["share", "share button"],
];
const CONTROL_IDS = new Set(SHARE_CONTROLS.map(([id]) => id));

/** Append a fingertip position to a trail (a new array), dropping the oldest beyond `max` and repeats closer than `minDist` [m]. */
export function extendTrail(trail, xy, { max = 600, minDist = 1e-4 } = {}) {
  if (!Array.isArray(xy) || xy.length < 2 || !xy.every(Number.isFinite)) return trail;
  const last = trail[trail.length - 1];
  if (last && Math.hypot(xy[0] - last[0], xy[1] - last[1]) < minDist) return trail;
  const next = [...trail, [xy[0], xy[1]]];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Signed area of a polygon [[x, y]...] (positive: counter-clockwise). */
export function signedArea(poly) {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x1, y1] = poly[i];
    const [x2, y2] = poly[(i + 1) % poly.length];
    a += x1 * y2 - x2 * y1;
  }
  return a / 2;
}

/**
 * The workspace grids of /ws/sim's ready message ([g][i][j] = fingertip [x, y]) as quadrilaterals,
 * each counter-clockwise, so that one non-zero fill of them all shades their union evenly.
 * A one-column grid (a one-joint chain: an arc, no area) gives thin quads of zero area: skipped.
 */
export function workspaceQuads(grids) {
  const quads = [];
  for (const g of grids ?? []) {
    for (let i = 0; i + 1 < g.length; i++) {
      for (let j = 0; j + 1 < g[i].length; j++) {
        const q = [g[i][j], g[i + 1][j], g[i + 1][j + 1], g[i][j + 1]];
        const a = signedArea(q);
        if (Math.abs(a) < 1e-12) continue;
        quads.push(a > 0 ? q : q.slice().reverse());
      }
    }
  }
  return quads;
}

/** Whether [x, y] lies in one of the quads (even-odd rule per quad). */
export function inQuads(quads, [x, y]) {
  return quads.some((q) => {
    let hit = false;
    for (let k = 0; k < q.length; k++) {
      const [x1, y1] = q[k];
      const [x2, y2] = q[(k + 1) % q.length];
      if (y1 > y !== y2 > y && x < x1 + ((y - y1) * (x2 - x1)) / (y2 - y1)) hit = !hit;
    }
    return hit;
  });
}

const unit = ([x, y]) => {
  const n = Math.hypot(x, y);
  return n > 1e-12 ? [x / n, y / n] : [0, 0];
};
const left = ([x, y]) => [-y, x];
const add = (a, b, k = 1) => [a[0] + k * b[0], a[1] + k * b[1]];

/**
 * Stand-in lines for muscles without path points (polynomial or constant moment-arm geometry).
 *
 * joints: the body points [[x, y]...] (shoulder, elbow, ..., fingertip; the point mass: [mass]).
 * momentArm: [n][M] [m] at this posture (dL/dq; negative: the muscle's pull raises the joint angle).
 * Arms: each muscle's line starts on the segment before the first joint it crosses (the trunk, along
 * -x from the shoulder, for the shoulder), passes each crossed joint on the side it pulls (flexors,
 * r < 0, inside the bend: left of the limb) at the distance |r|, and ends half-way along the segment
 * after the last one. The point mass: a 15 cm line from the mass along the pull (-r). Returns [M]
 * polylines, or null for a muscle that crosses no joint.
 */
export function momentArmLines(joints, momentArm, { pointMass = false, trunk = null, eps = 1e-4 } = {}) {
  if (!joints?.length || !momentArm?.length) return [];
  const n = momentArm.length;
  const m = momentArm[0].length;
  const out = [];
  for (let k = 0; k < m; k++) {
    const r = momentArm.map((row) => row[k]);
    if (pointMass) {
      const pull = unit([-r[0], -(r[1] ?? 0)]);
      out.push(pull[0] || pull[1] ? [joints[0], add(joints[0], pull, 0.15)] : null);
      continue;
    }
    const crossed = r.map((v, j) => (Math.abs(v) > eps ? j : -1)).filter((j) => j >= 0 && j < joints.length - 1);
    if (!crossed.length) {
      out.push(null);
      continue;
    }
    const seg = (j) => [joints[j + 1][0] - joints[j][0], joints[j + 1][1] - joints[j][1]]; // link j+1, joint j -> j+1
    const trunkLen = trunk ?? 0.35 * Math.hypot(...seg(0));
    const incoming = (j) => (j === 0 ? [1, 0] : unit(seg(j - 1)));
    const inLen = (j) => (j === 0 ? trunkLen : 0.35 * Math.hypot(...seg(j - 1)));
    const side = (j) => (r[j] < 0 ? 1 : -1) * Math.abs(r[j]); // left of the limb for a flexor
    const first = crossed[0];
    const last = crossed[crossed.length - 1];
    const pts = [add(add(joints[first], incoming(first), -inLen(first)), left(incoming(first)), side(first))];
    for (const j of crossed) {
      let bis = unit(add(left(incoming(j)), left(unit(seg(j)))));
      if (!bis[0] && !bis[1]) bis = left(unit(seg(j)));
      pts.push(add(joints[j], bis, side(j)));
    }
    const out1 = seg(last);
    pts.push(add(add(joints[last], out1, 0.5), left(unit(out1)), side(last)));
    out.push(pts);
  }
  return out;
}

/** Names of an effector's joints (degrees of freedom), from its skeleton spec. */
export function jointNames(skeleton) {
  if (skeleton?.kind === "point_mass") return ["x", "y"];
  const n = skeleton?.kind === "planar_arm" ? skeleton.links?.length ?? 0 : 2;
  const names = ["shoulder", "elbow", "wrist"];
  return Array.from({ length: n }, (_, i) => names[i] ?? `joint ${i + 1}`);
}

const listText = (items) => (items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

const COMPASS = ["right", "upper right", "up", "upper left", "left", "lower left", "down", "lower right"];

/**
 * What the muscles of an effector do, from its spec and the moment arms at the start posture
 * ([n][M], ready.start_moment_arm): {kind, intro, muscles: [{name, text}], lines, loads} texts for
 * the explanation panel that name this effector's own muscles and joints.
 */
export function explainEffector(spec, startMomentArm, { eps = 1e-4 } = {}) {
  const sk = spec?.skeleton ?? {};
  const muscles = spec?.muscles ?? [];
  const joints = jointNames(sk);
  const r = (j, k) => startMomentArm?.[j]?.[k] ?? 0;
  const pathOnly = muscles.every((m) => m.geometry?.kind === "path");
  const geometry = [...new Set(muscles.map((m) => m.geometry?.kind))];
  if (sk.kind === "point_mass") {
    const rows = muscles.map((m, k) => {
      const a = (Math.atan2(-r(1, k), -r(0, k)) * 180) / Math.PI;
      const dir = COMPASS[Math.round(((a + 360) % 360) / 45) % 8];
      return { name: m.name, text: `pulls the mass towards the ${dir}` };
    });
    return {
      kind: "point_mass",
      intro: `${spec.name ?? "This effector"} is a point mass of ${sk.mass ?? 1} kg that slides freely in the plane, moved by ${muscles.length} muscles. No joints: its position is x and y, confined to the dashed box.`,
      muscles: rows,
      action: `Muscles only pull, each along its own line, so one muscle moves the mass one way; ${listText(muscles.slice(0, 2).map((m) => m.name))} together pull in between. Opposing muscles together stiffen it in place.`,
      lines: pathOnly ? "The coloured lines run from each muscle's fixed end (grey square) to the mass." : "The coloured lines point along each muscle's pull (its geometry has no attachment points).",
      joints,
    };
  }
  const rows = muscles.map((m, k) => {
    const acts = joints
      .map((name, j) => (Math.abs(r(j, k)) > eps ? `${r(j, k) < 0 ? "flexes" : "extends"} the ${name}` : null))
      .filter(Boolean);
    const span = acts.length > 1 ? ` (a ${acts.length === 2 ? "two" : acts.length}-joint muscle)` : "";
    return { name: m.name, text: acts.length ? `${listText(acts)}${span}` : "crosses no joint at this posture" };
  });
  const flexors = (j) => muscles.filter((_, k) => r(j, k) < -eps).map((m) => m.name);
  const extensors = (j) => muscles.filter((_, k) => r(j, k) > eps).map((m) => m.name);
  const pairs = joints
    .map((name, j) => (flexors(j).length && extensors(j).length ? `at the ${name}, ${listText(flexors(j))} against ${listText(extensors(j))}` : null))
    .filter(Boolean);
  const linkCount = joints.length;
  return {
    kind: "arm",
    intro: `${spec.name ?? "This effector"} is a planar arm of ${linkCount} segments seen from above: the ${listText(joints)} ${linkCount > 1 ? "are" : "is"} hinge joints, each limited to its range, moved by ${muscles.length} muscles.`,
    muscles: rows,
    action: `A muscle only pulls; a joint turns when the muscles crossing it pull unequally${pairs.length ? ": " + pairs.join("; ") : ""}. Raise a flexor and its extensor together and the joint stiffens but barely moves (co-contraction).`,
    jointsText: listText(joints),
    lines: pathOnly
      ? "The coloured lines are the muscles' paths through their attachment points."
      : `The coloured lines are stand-ins: these muscles are defined by ${geometry.includes("polynomial") ? "polynomial moment arms (Nijhof & Kouwenhoven 2000)" : "constant moment arms"}, not by attachment points. Each line crosses the joints its muscle acts on, on the side it pulls (flexors inside the bend), as far from the joint as its moment arm at this posture.`,
    joints,
  };
}

/**
 * The load toggles as the core's perturbation specs (what a /ws/sim "perturb" message carries):
 * {curl: gain [N s/m] or 0 (off), curlDir: "cw" | "ccw", load: magnitude [N] or 0 (off), loadAngle: [deg]}.
 */
export function perturbationSpecs({ curl = 0, curlDir = "cw", load = 0, loadAngle = 0 } = {}) {
  const out = [];
  if (Number(curl) > 0) out.push({ kind: "curl_field", gain: Number(curl), direction: curlDir === "ccw" ? "ccw" : "cw" });
  if (Number(load) > 0) out.push({ kind: "endpoint_load", magnitude: Number(load), angle: Number(loadAngle) || 0 });
  return out;
}

const num = (v, lo, hi) => {
  const x = Number(v);
  return v !== undefined && v !== null && v !== "" && Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : null;
};
const bool = (v, dflt) => (v === undefined || v === null || v === "" ? dflt : !["0", "false", "off", "no"].includes(String(v).toLowerCase()));
const idList = (v) =>
  new Set(
    String(v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => CONTROL_IDS.has(s))
  );

/**
 * The playground's state from URL parameters (a shared link): loads, toggles, excitations, paused,
 * and the locked and hidden controls. Unknown or out-of-range values fall back to defaults or the limits
 * (curl gain 0..200 N s/m, load 0..50 N, angle -360..360 deg, excitations 0..1).
 */
export function parseShare(params = {}) {
  const ex = params.ex === undefined ? null : String(params.ex).split(",").map((v) => num(v, 0, 1) ?? 0);
  return {
    curl: num(params.curl, 0, 200) ?? 0,
    curlDir: params.curl_dir === "ccw" ? "ccw" : "cw",
    load: num(params.load, 0, 50) ?? 0,
    loadAngle: num(params.load_angle, -360, 360) ?? 0,
    trail: bool(params.trail, true),
    workspace: bool(params.workspace, true),
    paused: bool(params.paused, false),
    excitation: ex,
    locked: idList(params.lock),
    hidden: idList(params.hide),
  };
}

/**
 * URL parameters of a shared link: the source (`effector` or `run`), the current values and the
 * controls to lock and hide (defaults left out). The inverse of parseShare.
 */
export function shareParams({ source, curl = 0, curlDir = "cw", load = 0, loadAngle = 0, trail = true, workspace = true, paused = false, excitation = null }, { lock = [], hide = [] } = {}) {
  const p = {};
  if (source?.startsWith("run:")) p.run = source.slice(4);
  else if (source) p.effector = source;
  if (Number(curl) > 0) {
    p.curl = String(Number(curl));
    if (curlDir === "ccw") p.curl_dir = "ccw";
  }
  if (Number(load) > 0) {
    p.load = String(Number(load));
    if (Number(loadAngle)) p.load_angle = String(Number(loadAngle));
  }
  if (!trail) p.trail = "0";
  if (!workspace) p.workspace = "0";
  if (paused) p.paused = "1";
  if (excitation?.some((v) => v > 0)) p.ex = excitation.map((v) => String(Number(Number(v).toFixed(2)))).join(",");
  const order = SHARE_CONTROLS.map(([id]) => id);
  const pick = (ids) => order.filter((id) => [...ids].includes(id)).join(",");
  if (pick(lock)) p.lock = pick(lock);
  if (pick(hide)) p.hide = pick(hide);
  return p;
}

/** A one-line summary of the loads for the drawing: "curl field 10 N s/m clockwise · load 5 N at 90°", or "". */
export function loadLabel({ curl = 0, curlDir = "cw", load = 0, loadAngle = 0 } = {}) {
  const parts = [];
  if (curl > 0) parts.push(`curl field ${curl} N s/m ${curlDir === "ccw" ? "counter-clockwise" : "clockwise"}`);
  if (load > 0) parts.push(`load ${load} N at ${loadAngle}°`);
  return parts.join(" · ");
}
