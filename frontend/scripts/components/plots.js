// Thin wrappers over the global Plotly (served at /vendor/plotly.min.js).

// The mode bar's camera button saves a PNG (Plotly's toImage, no network needed) at twice the size.
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"], toImageButtonOptions: { format: "png", scale: 2, filename: "motornet-figure" } };

/** Base layout: small margins, legend on top, the given axis titles. */
export function layout(extra = {}) {
  return {
    margin: { l: 55, r: 15, t: 30, b: 45 },
    font: { family: "system-ui, sans-serif", size: 12 },
    legend: { orientation: "h", y: 1.12, x: 0, font: { size: 11 } },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    ...extra,
  };
}

/** Redraw a plot with Plotly.react. */
export function react(el, traces, lay = {}) {
  if (!window.Plotly || !el.isConnected) return Promise.resolve();
  return window.Plotly.react(el, traces, layout(lay), CONFIG);
}

/** Append points to traces (Plotly.extendTraces) keeping at most `maxPoints` per trace. */
export function extend(el, update, indices, maxPoints) {
  if (!window.Plotly || !el.isConnected || !el.data) return;
  window.Plotly.extendTraces(el, update, indices, maxPoints);
}

/** Free a plot's resources. */
export function purge(el) {
  if (window.Plotly && el) window.Plotly.purge(el);
}

/** An empty plot with a message in the middle. */
export function placeholder(el, message, lay = {}) {
  return react(el, [], {
    ...lay,
    xaxis: { visible: false },
    yaxis: { visible: false },
    annotations: [{ text: message, showarrow: false, font: { color: "#5f6b7a", size: 13 }, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }],
  });
}
