// Pure helpers of the run page's dynamics and learning-curve panels (no DOM, no Plotly): the form's
// fields from the DynamicsParams JSON schema, Plotly traces from POST /api/runs/{id}/dynamics, and
// a training protocol's block boundaries and readout curves from the metric series.

/** Units shown beside the dynamics parameters (the schema's descriptions say the rest). */
export const PARAM_UNITS = { input_time: "s" };

/** Short labels of the dynamics parameters (the field's name, as in Python and REST, is its tooltip's first word). */
export const PARAM_LABELS = {
  n_initial: "searches",
  n_iterations: "steps each",
  lr: "learning rate",
  q_tolerance: "keep q below",
  unique_distance: "merge closer than",
  condition: "input of condition",
  input_time: "at time",
  n_components: "PCs",
  eps_fraction: "tangling ε / variance",
  init_noise: "start noise σ",
  seed: "seed",
};

/**
 * The dynamics form's fields from the DynamicsParams JSON schema, in schema order:
 * [{name, type: "integer" | "number", min, max, exclusiveMin, default, nullable, description}].
 */
export function paramFields(schema) {
  const out = [];
  for (const [name, p] of Object.entries(schema?.properties ?? {})) {
    const options = p.anyOf ?? [p];
    const num = options.find((o) => o.type === "integer" || o.type === "number");
    if (!num) continue;
    out.push({
      name,
      type: num.type,
      min: num.minimum ?? num.exclusiveMinimum ?? null,
      exclusiveMin: num.exclusiveMinimum !== undefined,
      max: num.maximum ?? null,
      default: p.default ?? null,
      nullable: options.some((o) => o.type === "null"),
      description: p.description ?? "",
    });
  }
  return out;
}

/**
 * The request body from the form's texts ({name: string}); blank nullable fields are null, blank
 * others are left out (the server's default applies). Returns {body, errors: [{loc, msg}]}.
 */
export function paramsBody(fields, texts) {
  const body = {};
  const errors = [];
  for (const f of fields) {
    const text = String(texts[f.name] ?? "").trim();
    if (text === "") {
      if (f.nullable) body[f.name] = null;
      continue;
    }
    const v = Number(text);
    if (!Number.isFinite(v) || (f.type === "integer" && !Number.isInteger(v))) {
      errors.push({ loc: f.name, msg: f.type === "integer" ? "needs a whole number" : "needs a number" });
      continue;
    }
    body[f.name] = v;
  }
  return { body, errors };
}

/** The groups to view: the whole network first, then each area of a multi-area policy (by name). */
export function viewGroups(result) {
  const areas = result?.areas ?? [];
  const whole = { name: "whole network", key: "", trajectories: result.trajectories, tangling: result.tangling, fixed_points_pc: result.fixed_points.pc, explained_variance_ratio: result.explained_variance_ratio };
  if (areas.length === 1 && areas[0].name === "network") return [whole];
  return [whole, ...areas.map((a) => ({ ...a, key: a.name }))];
}

/**
 * Plotly traces of one group's trajectories in (PC a, PC b) with its fixed points: one line per
 * condition (a dot at its end, no legend entry), stable points filled, unstable open.
 * colourOf(i, n) -> CSS colour; targets (C, 2) [m] label the conditions.
 */
export function trajectoryTraces(group, stable, colourOf, targets = [], axes = [0, 1]) {
  const [a, b] = axes;
  const traj = group.trajectories ?? [];
  const n = traj.length;
  const traces = traj.map((trial, c) => {
    const t = targets[c];
    const label = t ? `condition ${c} (target ${(t[0] * 100).toFixed(1)}, ${(t[1] * 100).toFixed(1)} cm)` : `condition ${c}`;
    return {
      x: trial.map((p) => p[a]),
      y: trial.map((p) => p[b]),
      mode: "lines",
      name: label,
      showlegend: false,
      hovertemplate: `${label}<extra></extra>`,
      line: { color: colourOf(c, n), width: 1.5 },
    };
  });
  traces.push({
    x: traj.map((trial) => trial[trial.length - 1]?.[a]),
    y: traj.map((trial) => trial[trial.length - 1]?.[b]),
    mode: "markers",
    name: "trial end",
    hoverinfo: "skip",
    marker: { size: 6, color: traj.map((_, c) => colourOf(c, n)) },
  });
  const fps = group.fixed_points_pc ?? [];
  for (const [isStable, name, symbol] of [[true, "stable fixed point", "star"], [false, "unstable fixed point", "star-open"]]) {
    const idx = fps.map((_, k) => k).filter((k) => Boolean(stable[k]) === isStable);
    if (!idx.length) continue;
    traces.push({
      x: idx.map((k) => fps[k][a]),
      y: idx.map((k) => fps[k][b]),
      mode: "markers",
      name: `${name}${idx.length > 1 ? "s" : ""} (${idx.length})`,
      text: idx.map((k) => `fixed point ${k}`),
      hovertemplate: "%{text}<extra></extra>",
      marker: { symbol, size: 13, color: "#000", line: { width: 1.5, color: "#000" } },
    });
  }
  return traces;
}

/** Tangling Q(t) of each condition: one line each, coloured like its trajectory. */
export function tanglingTraces(time, tangling, colourOf) {
  const n = tangling.length;
  return tangling.map((q, c) => ({ x: time, y: q, mode: "lines", name: `condition ${c}`, showlegend: false, hovertemplate: `condition ${c}: Q = %{y:.3g} at %{x:.2f} s<extra></extra>`, line: { color: colourOf(c, n), width: 1.2 } }));
}

/**
 * The fixed points' Jacobian eigenvalues in the complex plane with the unit circle (|λ| < 1: a
 * stable direction of the discrete-time map); stable points' in blue, unstable points' in red.
 */
export function eigenTraces(fp) {
  const circle = { x: [], y: [], mode: "lines", name: "|λ| = 1", hoverinfo: "skip", line: { color: "#8a94a3", width: 1, dash: "dot" } };
  for (let i = 0; i <= 120; i++) {
    circle.x.push(Math.cos((2 * Math.PI * i) / 120));
    circle.y.push(Math.sin((2 * Math.PI * i) / 120));
  }
  const traces = [circle];
  for (const [isStable, name, color] of [[true, "stable points' λ", "#1f6fb2"], [false, "unstable points' λ", "#c0392b"]]) {
    const x = [], y = [], text = [];
    (fp.eigenvalues_real ?? []).forEach((re, k) => {
      if (Boolean(fp.stable[k]) !== isStable) return;
      re.forEach((r, j) => {
        const im = fp.eigenvalues_imag[k][j];
        x.push(r);
        y.push(im);
        text.push(`fixed point ${k}, q = ${fp.q[k]}: |λ| = ${Math.hypot(r, im).toFixed(3)}`);
      });
    });
    if (x.length) traces.push({ x, y, text, mode: "markers", name, hovertemplate: "%{text}<extra></extra>", marker: { size: 6, color, opacity: 0.7 } });
  }
  return traces;
}

/** A protocol's blocks as iteration ranges: [{name, first, last}] (iterations counted from 1). */
export function blockRanges(protocol) {
  const out = [];
  let done = 0;
  for (const b of protocol?.blocks ?? []) {
    out.push({ name: b.name, first: done + 1, last: done + b.n_iterations });
    done += b.n_iterations;
  }
  return out;
}

/** Plotly shapes and annotations marking the blocks: a dashed line between blocks, the name above each. */
export function blockMarks(ranges) {
  const shapes = ranges.slice(1).map((r) => ({ type: "line", xref: "x", yref: "paper", x0: r.first - 0.5, x1: r.first - 0.5, y0: 0, y1: 1, line: { color: "#8a94a3", width: 1, dash: "dash" } }));
  const annotations = ranges.map((r) => ({ text: r.name, xref: "x", yref: "paper", x: (r.first + r.last) / 2, y: 1.0, yanchor: "bottom", showarrow: false, font: { size: 11, color: "#3d4957" } }));
  return { shapes, annotations };
}

/** Running mean over the last `w` points (NaN-free input; the first points average what there is). */
export function runningMean(values, w) {
  const out = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= w) sum -= values[i - w];
    out.push(sum / Math.min(i + 1, w));
  }
  return out;
}

/** The learning-curve readouts a protocol run records, with their display scale and axis. */
export const PROTOCOL_CURVES = [
  { key: "protocol/lateral_deviation", name: "field trials: peak lateral deviation", scale: 100, unit: "cm", axis: "y" },
  { key: "protocol/catch_deviation", name: "catch trials: peak lateral deviation", scale: 100, unit: "cm", axis: "y" },
  { key: "protocol/channel_force", name: "channel trials: peak force", scale: 1, unit: "N", axis: "y2" },
];

/**
 * Traces of the protocol readouts held in `series` ({key: {step, value}}): each raw (faint) and as a
 * running mean over `w` iterations; keys the run has not recorded are left out.
 */
export function protocolTraces(series, colourOf, w = 10) {
  const traces = [];
  PROTOCOL_CURVES.forEach((c, i) => {
    const s = series?.[c.key];
    if (!s || !s.step.length) return;
    const y = s.value.map((v) => v * c.scale);
    const color = colourOf(i, PROTOCOL_CURVES.length);
    traces.push({ x: s.step.slice(), y, mode: "lines", name: `${c.name} [${c.unit}]`, legendgroup: c.key, showlegend: false, hoverinfo: "skip", yaxis: c.axis, opacity: 0.25, line: { color, width: 1 } });
    traces.push({ x: s.step.slice(), y: runningMean(y, w), mode: "lines", name: `${c.name} [${c.unit}]`, legendgroup: c.key, yaxis: c.axis, line: { color, width: 2 } });
  });
  return traces;
}
