// Metric series and trajectory measures for the run views. Pure.

/** Order metric keys for display: "loss" first, then its terms "loss/...", then the rest. */
export function orderKeys(keys) {
  const rank = (k) => (k === "loss" ? 0 : k.startsWith("loss/") ? 1 : 2);
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Keys plotted as loss curves (the total and its terms). */
export function lossKeys(keys) {
  return orderKeys(keys.filter((k) => k === "loss" || k.startsWith("loss/")));
}

/**
 * Loss terms ("loss/...") whose curve is the total's at every step both have (within `rtol`): a
 * term that is the only non-zero one. series: {key: {step: [], value: []}}.
 */
export function duplicateTerms(series, rtol = 1e-3) {
  const total = series?.loss;
  if (!total) return [];
  const at = new Map(total.step.map((s, i) => [s, total.value[i]]));
  return Object.keys(series).filter((k) => {
    if (!k.startsWith("loss/")) return false;
    const { step, value } = series[k];
    let shared = 0;
    for (let i = 0; i < step.length; i++) {
      const t = at.get(step[i]);
      if (t === undefined) continue;
      shared += 1;
      if (!(Math.abs(value[i] - t) <= rtol * Math.max(Math.abs(t), 1e-12))) return false;
    }
    return shared > 0;
  });
}

/** Normalise a websocket metric message into {step, values} ({values} or a single {key, value}). */
export function metricFromMessage(msg) {
  if (msg.values && typeof msg.values === "object") return { step: msg.step, values: msg.values };
  if (msg.key !== undefined) return { step: msg.step, values: { [msg.key]: msg.value } };
  return { step: msg.step, values: {} };
}

/**
 * Largest perpendicular distance of each hand path from the straight line between its start and
 * its target: hand [B][T][2], targets [B][2] -> [B] (m).
 */
export function lateralDeviation(hand, targets) {
  return hand.map((path, b) => {
    const [x0, y0] = path[0];
    const [x1, y1] = targets[b] ?? path[path.length - 1];
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len = Math.hypot(dx, dy);
    if (len < 1e-9) return 0;
    let best = 0;
    for (const [x, y] of path) best = Math.max(best, Math.abs((x - x0) * dy - (y - y0) * dx) / len);
    return best;
  });
}

/** Mean of an array (NaN when empty). */
export function mean(xs) {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** Transpose [T][M] -> [M][T]. */
export function transpose(rows) {
  if (!rows.length) return [];
  return rows[0].map((_, j) => rows.map((r) => r[j]));
}

/** Progress text: "12 / 20 (60%)". */
export function progressText(step, total, progress) {
  const p = Number.isFinite(progress) ? progress : total ? step / total : 0;
  return `${step ?? 0} / ${total ?? "?"} (${Math.round(100 * p)}%)`;
}

/** Interpolate a joint-set between two frames ([J][2]) with weight w in [0, 1]. */
export function lerpPoints(a, b, w) {
  if (!a) return b;
  if (!b || a.length !== b.length) return b ?? a;
  return a.map((p, i) => [p[0] + (b[i][0] - p[0]) * w, p[1] + (b[i][1] - p[1]) * w]);
}

/** Median of the finite values of an array (NaN when none). */
function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * Which loss curves share the total's axis: "y" for the total and the terms within `ratio` of its
 * median size, "y2" for terms of another scale (e.g. activation penalties 1e-7 beside a loss of 0.1).
 * series: {key: {step: [], value: []}} -> {key: "y" | "y2"}.
 */
export function lossAxes(series, keys, ratio = 100) {
  const ref = median(series?.loss?.value ?? []);
  const out = {};
  for (const k of keys) {
    const m = median(series?.[k]?.value ?? []);
    const far = k !== "loss" && Number.isFinite(ref) && Number.isFinite(m) && (m > ref * ratio || m < ref / ratio);
    out[k] = far ? "y2" : "y";
  }
  return out;
}

/** Exponential moving average with TensorBoard's debiasing: weight in [0, 1) (0: the values themselves). */
export function smooth(values, weight) {
  if (!(weight > 0)) return values.slice();
  const out = [];
  let last = 0;
  let k = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    k += 1;
    out.push(last / (1 - weight ** k));
  }
  return out;
}

/**
 * Live run timing: the seconds so far (the server's duration when fetched, plus the time since
 * while running), iterations per second over the current attempt and the remaining time.
 * run: {status, duration, step, n_iterations}; since: seconds since the run was fetched;
 * rate: measured iterations/s or null.
 */
export function runTiming(run, since, rate) {
  const running = run?.status === "running";
  const seconds = Number.isFinite(run?.duration) ? run.duration + (running ? Math.max(0, since) : 0) : null;
  const left = (run?.n_iterations ?? 0) - (run?.step ?? 0);
  const eta = running && rate > 0 && left >= 0 ? left / rate : null;
  return { seconds, rate: Number.isFinite(rate) && rate > 0 ? rate : null, eta };
}

/** Measured iterations/s from (time [s], step) samples: the slope over the samples within the last `window` s. */
export function iterationRate(samples, window = 20) {
  if (samples.length < 2) return null;
  const t1 = samples[samples.length - 1][0];
  const recent = samples.filter(([t]) => t >= t1 - window);
  const [ta, sa] = recent[0];
  const [tb, sb] = recent[recent.length - 1];
  return tb > ta && sb > sa ? (sb - sa) / (tb - ta) : null;
}

/** Drop the points after `step` from every series (a resume from an earlier checkpoint retrains them). */
export function truncateSeries(series, step) {
  const out = {};
  for (const [k, s] of Object.entries(series)) {
    const n = s.step.findIndex((x) => x > step);
    out[k] = n < 0 ? { step: s.step.slice(), value: s.value.slice() } : { step: s.step.slice(0, n), value: s.value.slice(0, n) };
  }
  return out;
}
