// Experiments (conditions x seeds): the designer's state and request body, where 422 errors go, and
// the figures' traces built from /api/experiments/{id}/aggregates. Pure, no DOM.

import { parseValueList } from "./valuelist.js";

/** Metrics an experiment page can show (the aggregates endpoint's keys). */
export const METRICS = ["loss", "mean_endpoint_error"];

/** Colour of condition i of n: an hsla() string (alpha for bands). */
export function conditionColour(i, n, alpha = 1) {
  const hue = Math.round((360 * i) / Math.max(n, 1) + 210) % 360;
  return `hsla(${hue}, 65%, 45%, ${alpha})`;
}

// -- the designer --------------------------------------------------------------------------------

/** An empty designer state. */
export function emptyDesign() {
  return { preset: "", run: "", name: "", notes: "", seeds: 2, sweep: [], set: [] };
}

function rowsFrom(text) {
  if (!text) return [];
  try {
    const rows = JSON.parse(text);
    if (!Array.isArray(rows)) return [];
    return rows.filter((r) => Array.isArray(r) && typeof r[0] === "string").map(([path, values]) => ({ path, text: String(values ?? "") }));
  } catch {
    return [];
  }
}

/** Designer state from URL params (preset, run, name, notes, seeds, sweep, set; sweep/set JSON [[path, text]]). */
export function designFromParams(params) {
  const d = emptyDesign();
  d.preset = params.preset ?? "";
  d.run = params.run ?? "";
  d.name = params.name ?? "";
  d.notes = params.notes ?? "";
  const seeds = Number(params.seeds);
  if (params.seeds !== undefined && Number.isInteger(seeds)) d.seeds = seeds;
  d.sweep = rowsFrom(params.sweep);
  d.set = rowsFrom(params.set);
  return d;
}

/** URL params of a designer state (empty parts null, so they drop out of the URL). */
export function designToParams(d) {
  const rows = (list) => (list.length ? JSON.stringify(list.map((r) => [r.path, r.text])) : null);
  return {
    preset: d.run ? null : d.preset || null,
    run: d.run || null,
    name: d.name || null,
    notes: d.notes || null,
    seeds: String(d.seeds),
    sweep: rows(d.sweep),
    set: rows(d.set),
  };
}

/**
 * The POST /api/experiments (and /estimate) body of a designer state, or the row errors that stop it.
 * `types` maps a dotted path to its form type (from leafPaths); `baseSpec`, when the design starts
 * from a run, is that run's spec: the body is then {spec: ExperimentSpec} with the set values applied.
 * Returns {body, errors: {"sweep.<i>"|"set.<i>"|"seeds": message}}; body is null when errors is not empty.
 */
export function designBody(d, { types = {}, baseSpec = null } = {}) {
  const errors = {};
  const grid = {};
  const overrides = {};
  const seen = new Map();
  for (const [part, list, target] of [["sweep", d.sweep, grid], ["set", d.set, overrides]]) {
    list.forEach((row, i) => {
      const at = `${part}.${i}`;
      if (!row.path) return void (errors[at] = "pick a field");
      if (seen.has(row.path)) return void (errors[at] = `${row.path} is already ${seen.get(row.path)}`);
      seen.set(row.path, part === "sweep" ? "swept" : "set");
      const parsed = parseValueList(row.text, types[row.path]);
      if (parsed.error) return void (errors[at] = parsed.error);
      if (part === "set" && parsed.values.length !== 1) return void (errors[at] = "a fixed field takes one value (sweep it to try several)");
      target[row.path] = part === "sweep" ? parsed.values : parsed.values[0];
    });
  }
  if (!Number.isInteger(d.seeds) || d.seeds < 1) errors.seeds = "seeds must be a whole number ≥ 1";
  if (!d.run && !d.preset) errors.preset = "pick a run preset";
  if (Object.keys(errors).length) return { body: null, errors };
  const name = d.name || undefined;
  if (baseSpec) {
    let base = structuredClone(baseSpec);
    for (const [path, v] of Object.entries(overrides)) base = setPath(base, path, v);
    base = setPath(base, "train.replicates", 1);
    const spec = { base, grid, seeds: d.seeds, notes: d.notes };
    if (name) spec.name = name;
    return { body: { spec }, errors };
  }
  const body = { preset: d.preset, overrides, grid, seeds: d.seeds, notes: d.notes };
  if (name) body.name = name;
  return { body, errors };
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  const root = obj;
  let cur = root;
  keys.forEach((k, i) => {
    const key = Array.isArray(cur) && /^\d+$/.test(k) ? Number(k) : k;
    if (i === keys.length - 1) cur[key] = value;
    else {
      if (cur[key] === null || typeof cur[key] !== "object") cur[key] = /^\d+$/.test(keys[i + 1]) ? [] : {};
      cur = cur[key];
    }
  });
  return root;
}

/**
 * Place 422 errors ([{loc, msg}], loc dotted and relative to the body, or to {spec}) at the
 * designer's fields: "sweep.<i>" for grid.<path>, "set.<i>" for overrides.<path> / base.<path>,
 * "seeds", "name", "notes", "preset"; anything else under "". Returns {key: [messages]}.
 */
export function placeErrors(errors, d) {
  const out = {};
  const add = (k, m) => (out[k] ??= []).push(m);
  const rowFor = (list, rest) => {
    let best = -1;
    list.forEach((r, i) => {
      if (r.path && (rest === r.path || rest.startsWith(`${r.path}.`)) && (best < 0 || r.path.length > list[best].path.length)) best = i;
    });
    return best;
  };
  for (const e of errors) {
    const loc = Array.isArray(e.loc) ? e.loc.join(".") : String(e.loc ?? "");
    const msg = e.msg ?? String(e);
    const head = loc.split(".")[0];
    const rest = loc.slice(head.length + 1);
    if (head === "grid") {
      const i = rowFor(d.sweep, rest);
      add(i >= 0 ? `sweep.${i}` : "", i >= 0 ? msg : `${loc}: ${msg}`);
    } else if (head === "overrides" || head === "base") {
      const i = rowFor(d.set, rest);
      const j = i < 0 ? rowFor(d.sweep, rest) : -1;
      if (i >= 0) add(`set.${i}`, msg);
      else if (j >= 0) add(`sweep.${j}`, msg);
      else add("", `${loc}: ${msg}`);
    } else if (["seeds", "name", "notes", "preset"].includes(head) && !rest) add(head, msg);
    else add("", loc ? `${loc}: ${msg}` : msg);
  }
  return out;
}

/** Conditions of a design before the server counts them: the product of the sweep list lengths. */
export function countConditions(d, types = {}) {
  let n = 1;
  for (const row of d.sweep) {
    const parsed = parseValueList(row.text, types[row.path]);
    n *= parsed.values ? parsed.values.length : 1;
  }
  return n;
}

// -- the experiment page -------------------------------------------------------------------------

/** "3 conditions × 2 seeds = 6 networks". */
export function networksText(nConditions, seeds) {
  const c = `${nConditions} condition${nConditions === 1 ? "" : "s"}`;
  const s = `${seeds} seed${seeds === 1 ? "" : "s"}`;
  const n = nConditions * seeds;
  return `${c} × ${s} = ${n} network${n === 1 ? "" : "s"}`;
}

/** Merge a websocket "experiment" message (or a REST ExperimentOut) into the held experiment. */
export function applyExperimentMessage(exp, msg) {
  const { type, ...fields } = msg ?? {};
  if (type !== undefined && type !== "experiment") return exp;
  return { ...(exp ?? {}), ...fields };
}

/** Every run id of an experiment with its condition and seed: [{run_id, condition, seed, label}]. */
export function experimentRuns(exp) {
  const out = [];
  for (const c of exp?.conditions ?? []) (c.run_ids ?? []).forEach((id, seed) => out.push({ run_id: id, condition: c.index, seed, label: c.label }));
  return out;
}

function finite(x) {
  return typeof x === "number" && Number.isFinite(x);
}

/**
 * Band traces of one metric: per condition an upper edge, a lower edge filled to it (the 95%
 * interval) and the mean line, in one colour; `meta` marks each ({role: "band-high"|"band"|"mean",
 * condition}). Steps where a bound is missing (one seed) leave a gap in the band.
 */
export function bandTraces(agg, key) {
  const conds = agg?.conditions ?? [];
  const traces = [];
  conds.forEach((c, i) => {
    const cv = c.curves?.[key];
    if (!cv || !cv.step?.length) return;
    const col = conditionColour(i, conds.length);
    const band = conditionColour(i, conds.length, 0.18);
    const clean = (ys) => ys.map((y) => (finite(y) ? y : null));
    const group = `c${c.index}`;
    traces.push({ type: "scatter", mode: "lines", x: cv.step, y: clean(cv.high), line: { width: 0, color: col }, hoverinfo: "skip", showlegend: false, legendgroup: group, meta: { role: "band-high", condition: c.index } });
    traces.push({ type: "scatter", mode: "lines", x: cv.step, y: clean(cv.low), fill: "tonexty", fillcolor: band, line: { width: 0, color: col }, hoverinfo: "skip", showlegend: false, legendgroup: group, meta: { role: "band", condition: c.index } });
    traces.push({
      type: "scatter",
      mode: "lines",
      x: cv.step,
      y: clean(cv.mean),
      name: c.label,
      legendgroup: group,
      line: { width: 2, color: col },
      customdata: cv.step.map((_, j) => [cv.low?.[j] ?? null, cv.high?.[j] ?? null, cv.n?.[j] ?? null]),
      hovertemplate: `${c.label}<br>step %{x}<br>mean %{y:.4g}<br>95%% CI [%{customdata[0]:.4g}, %{customdata[1]:.4g}]<br>n %{customdata[2]}<extra></extra>`,
      meta: { role: "mean", condition: c.index },
    });
  });
  return traces;
}

/**
 * Rows of the final-metrics table for one key: [{index, label, n, mean, sd, low, high, diff, diffLow,
 * diffHigh, p, reference}] (null where a statistic does not exist).
 */
export function finalRows(agg, key) {
  const ref = agg?.reference ?? 0;
  return (agg?.conditions ?? []).map((c) => {
    const f = c.final?.[key] ?? {};
    const v = c.vs_reference?.[key] ?? null;
    const num = (x) => (finite(x) ? x : null);
    return {
      index: c.index,
      label: c.label,
      reference: c.index === ref,
      n: f.n ?? 0,
      mean: num(f.mean),
      sd: num(f.sd),
      low: num(f.low),
      high: num(f.high),
      diff: num(v?.difference),
      diffLow: num(v?.low),
      diffHigh: num(v?.high),
      p: num(v?.p),
    };
  });
}

/** A run's final value of a metric from its summary (last_metrics; the endpoint error also from last_eval_error). */
export function runFinal(run, key) {
  const v = run?.last_metrics?.[key];
  if (finite(v)) return v;
  if (key.includes("endpoint_error") && finite(run?.last_eval_error)) return run.last_eval_error;
  return null;
}

/**
 * One value per seed for each condition: [{index, label, values: [{run_id, seed, value}]}], read from
 * the aggregates' per-run finals when the server sends them (condition.runs: [{run_id, final: {key}}])
 * and otherwise from the run summaries in `runsById`.
 */
export function seedValues(agg, key, runsById = {}) {
  return (agg?.conditions ?? []).map((c) => {
    const perRun = Array.isArray(c.runs) ? c.runs : null;
    const values = (c.run_ids ?? []).map((id, seed) => {
      const fromAgg = perRun?.find((r) => r.run_id === id)?.final?.[key];
      const value = finite(fromAgg) ? fromAgg : runFinal(runsById[id], key);
      return { run_id: id, seed, value };
    });
    return { index: c.index, label: c.label, values };
  });
}

/** Deterministic jitter in [-w, w] for dot j of n. */
function jitter(j, n, w) {
  return n <= 1 ? 0 : -w + (2 * w * j) / (n - 1);
}

/**
 * Strip plot of a final metric: per condition its seeds as dots (x = condition position, a little
 * jitter) and the mean with its 95% interval as an error bar beside them. Returns {traces, tickvals, ticktext}.
 */
export function stripTraces(agg, key, runsById = {}) {
  const seeds = seedValues(agg, key, runsById);
  const rows = finalRows(agg, key);
  const n = seeds.length;
  const traces = [];
  seeds.forEach((c, i) => {
    const pts = c.values.filter((v) => finite(v.value));
    traces.push({
      type: "scatter",
      mode: "markers",
      name: c.label,
      x: pts.map((_, j) => i - 0.1 + jitter(j, pts.length, 0.08)),
      y: pts.map((v) => v.value),
      text: pts.map((v) => `run #${v.run_id} · seed ${v.seed}`),
      customdata: pts.map((v) => v.run_id),
      hovertemplate: `${c.label}<br>%{text}<br>%{y:.4g}<extra></extra>`,
      marker: { size: 9, color: conditionColour(i, n), line: { width: 1, color: "#fff" } },
      meta: { role: "seeds", condition: c.index },
    });
    const r = rows[i];
    if (r && r.mean !== null) {
      const hasCi = r.low !== null && r.high !== null;
      traces.push({
        type: "scatter",
        mode: "markers",
        x: [i + 0.15],
        y: [r.mean],
        showlegend: false,
        marker: { symbol: "diamond", size: 11, color: "#1d2330" },
        error_y: hasCi ? { type: "data", symmetric: false, array: [r.high - r.mean], arrayminus: [r.mean - r.low], color: "#1d2330", thickness: 1.5, width: 6 } : undefined,
        hovertemplate: `${c.label}<br>mean %{y:.4g}${hasCi ? `<br>95% CI [${r.low.toPrecision(4)}, ${r.high.toPrecision(4)}]` : ""}<extra></extra>`,
        meta: { role: "mean-ci", condition: c.index },
      });
    }
  });
  return { traces, tickvals: seeds.map((_, i) => i), ticktext: seeds.map((c) => c.label) };
}

/** A parallel-coordinates dimension from raw values (numbers as they are, anything else as categories). */
export function dimension(label, raw) {
  if (raw.every((v) => finite(v) || v === null)) return { label, values: raw.map((v) => (finite(v) ? v : NaN)) };
  const cats = [];
  const keyOf = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  for (const v of raw) if (!cats.includes(keyOf(v))) cats.push(keyOf(v));
  return { label, values: raw.map((v) => cats.indexOf(keyOf(v))), tickvals: cats.map((_, i) => i), ticktext: cats };
}

/**
 * The parcoords trace: one axis per swept path and per metric, one line per network
 * (`per = "network"`, finals from the run summaries / aggregates) or per condition (its means);
 * lines coloured by the first metric. Returns null when there is nothing to draw.
 */
export function parcoordsTrace(agg, keys, { per = "network", runsById = {} } = {}) {
  const conds = agg?.conditions ?? [];
  if (!conds.length) return null;
  const paths = [...new Set(conds.flatMap((c) => Object.keys(c.values ?? {})))];
  const lines = [];
  if (per === "condition") {
    for (const c of conds) lines.push({ values: c.values ?? {}, metrics: Object.fromEntries(keys.map((k) => [k, c.final?.[k]?.mean ?? null])) });
  } else {
    const byKey = Object.fromEntries(keys.map((k) => [k, seedValues(agg, k, runsById)]));
    conds.forEach((c, i) => {
      (c.run_ids ?? []).forEach((_, s) => lines.push({ values: c.values ?? {}, metrics: Object.fromEntries(keys.map((k) => [k, byKey[k][i].values[s].value])) }));
    });
  }
  if (!lines.length) return null;
  const dims = [
    ...paths.map((p) => dimension(p, lines.map((l) => (p in l.values ? l.values[p] : null)))),
    ...keys.map((k) => dimension(per === "condition" ? `${k} (mean)` : k, lines.map((l) => (finite(l.metrics[k]) ? l.metrics[k] : null)))),
  ];
  const colourBy = dims[paths.length]?.values ?? [];
  const usable = colourBy.filter((v) => Number.isFinite(v));
  return {
    type: "parcoords",
    dimensions: dims,
    line: usable.length ? { color: colourBy.map((v) => (Number.isFinite(v) ? v : Math.min(...usable))), colorscale: "Viridis", showscale: true, colorbar: { title: { text: keys[0] }, thickness: 12 } } : { color: "#2f6fdf" },
    meta: { role: "parcoords", per, lines: lines.length },
  };
}

/** A p-value as a table shows it ("< 0.001", "0.032"). */
export function formatP(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  if (p < 0.001) return "< 0.001";
  return p.toFixed(3);
}
