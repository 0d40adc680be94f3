// Multi-area policies as a graph and a connectivity matrix (pure logic, unit-tested in node).

export const INPUT_GROUPS = ["task", "vision", "proprioception", "actions"];

/** True when the policy spec is a multi-area one with at least one area. */
export function isMultiArea(policy) {
  return policy?.kind === "multi_area" && Array.isArray(policy.areas) && policy.areas.length > 0;
}

/**
 * Nodes and edges of a multi-area policy: the input groups that reach some area, the areas, and
 * "muscles" when an area drives them. Edges: input -> area, area -> area (connections, with the
 * delay [s] and density), area -> muscles. Connections naming an unknown area are left out and
 * listed in `problems`.
 */
export function areaGraph(policy) {
  const areas = (policy?.areas ?? []).map((a, i) => ({ id: `area:${a.name || `#${i + 1}`}`, name: a.name || `#${i + 1}`, kind: a.kind ?? "gru", size: a.size ?? 0, tau: a.tau ?? null, toMuscles: !!a.to_muscles, inputs: a.inputs ?? [] }));
  const names = new Set(areas.map((a) => a.name));
  const inputs = INPUT_GROUPS.filter((g) => areas.some((a) => a.inputs.includes(g))).map((g) => ({ id: `input:${g}`, name: g }));
  const edges = [];
  for (const a of areas) for (const g of a.inputs) edges.push({ from: `input:${g}`, to: a.id, kind: "input" });
  const problems = [];
  for (const [i, c] of (policy?.connections ?? []).entries()) {
    if (!names.has(c.source) || !names.has(c.target)) {
      problems.push(`connection #${i + 1}: ${c.source} -> ${c.target} names an unknown area`);
      continue;
    }
    edges.push({ from: `area:${c.source}`, to: `area:${c.target}`, kind: "area", delay: c.delay ?? 0, density: c.density ?? 1 });
  }
  const drives = areas.filter((a) => a.toMuscles);
  for (const a of drives) edges.push({ from: a.id, to: "muscles", kind: "output" });
  return { inputs, areas, muscles: drives.length > 0, edges, problems, dale: !!policy?.dale, units: areas.reduce((s, a) => s + a.size, 0) };
}

/**
 * The connectivity matrix: one row per area (the receiver), one column per sender (input groups,
 * areas) and a last column "muscles" (the area drives them). Cells: "" (none), "•" (present; own
 * recurrence "↺"), with the delay in ms when it is not 0.
 */
export function connectivityMatrix(policy) {
  const g = areaGraph(policy);
  const cols = [...INPUT_GROUPS, ...g.areas.map((a) => a.name), "muscles"];
  const rows = g.areas.map((a) => {
    const cells = INPUT_GROUPS.map((grp) => (a.inputs.includes(grp) ? "•" : ""));
    for (const src of g.areas) {
      if (src.name === a.name) {
        cells.push("↺");
        continue;
      }
      const e = g.edges.find((x) => x.kind === "area" && x.from === src.id && x.to === a.id);
      cells.push(e ? (e.delay ? `${Math.round(e.delay * 1000)} ms` : "•") : "");
    }
    cells.push(a.toMuscles ? "•" : "");
    return { name: a.name, cells };
  });
  return { cols, rows };
}

/** Column positions of a left-to-right layout: inputs, areas in topological-ish order, muscles. */
export function areaLayout(graph, width = 520, rowHeight = 56) {
  const depth = new Map(graph.areas.map((a) => [a.id, a.inputs.length ? 0 : 1]));
  // areas fed by other areas move right (a few relaxation passes; cycles stop after n passes)
  for (let pass = 0; pass < graph.areas.length; pass++) {
    for (const e of graph.edges) {
      if (e.kind !== "area") continue;
      const d = depth.get(e.from) + 1;
      if (d > depth.get(e.to) && !hasEdge(graph, e.to, e.from)) depth.set(e.to, Math.min(d, graph.areas.length));
    }
  }
  const maxDepth = Math.max(0, ...depth.values());
  const columns = maxDepth + 3; // inputs, areas by depth, muscles
  const x = (c) => 50 + (c * (width - 100)) / Math.max(1, columns - 1);
  const pos = {};
  graph.inputs.forEach((n, i) => (pos[n.id] = { x: x(0), y: 30 + i * rowHeight }));
  const byDepth = {};
  for (const a of graph.areas) (byDepth[depth.get(a.id)] ??= []).push(a);
  for (const [d, list] of Object.entries(byDepth)) list.forEach((a, i) => (pos[a.id] = { x: x(Number(d) + 1), y: 30 + i * rowHeight + (Number(d) % 2) * 18 }));
  const rows = Math.max(graph.inputs.length, ...Object.values(byDepth).map((l) => l.length), 1);
  if (graph.muscles) pos.muscles = { x: x(columns - 1), y: 30 + ((rows - 1) * rowHeight) / 2 };
  return { pos, height: 40 + rows * rowHeight };
}

function hasEdge(graph, from, to) {
  return graph.edges.some((e) => e.from === from && e.to === to);
}
