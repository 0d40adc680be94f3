// Playground (teaching): drive an effector live over /ws/sim with one slider per muscle, or
// click a target and watch a trained policy reach; animated with requestAnimationFrame.

import { api, errorMessage, getPresets, items } from "../api.js";
import { ArmCanvas } from "../components/arm-canvas.js";
import { colour, fmt, h, toast } from "../dom.js";
import { formatForce } from "../logic/format.js";
import { bodyFrames, pathWorldPoints } from "../logic/geometry.js";
import { lerpPoints } from "../logic/metrics.js";
import { workspace } from "../logic/task.js";
import { openSocket } from "../socket.js";

const SEND_MS = 20; // ~50 messages per second

export async function mount(root, params, ctx) {
  const page = new Playground(root, ctx);
  await page.init(params);
  return page;
}

class Playground {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Playground";
    this.prev = null;
    this.cur = null;
    this.inFlight = false;
    this.fpsFrames = [];
  }

  async init(params) {
    let presets;
    let saved = [];
    let runs = [];
    try {
      presets = await getPresets();
      saved = items(await api("/api/effectors"));
      runs = items(await api("/api/runs")).filter((r) => r.checkpoint_step !== null && r.checkpoint_step !== undefined);
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, "Playground"), h("div", { class: "errorbox" }, `Could not load: ${errorMessage(err)}`));
      return;
    }
    this.presets = presets;
    const source = params.run ? `run:${params.run}` : params.effector ?? (presets.effectors.point_mass_24 ? "preset:point_mass_24" : `preset:${Object.keys(presets.effectors)[0]}`);
    this.sourceSel = h(
      "select",
      { "data-testid": "playground-source" },
      h("optgroup", { label: "effector presets (drive the muscles yourself)" }, ...Object.keys(presets.effectors).map((n) => h("option", { value: `preset:${n}` }, n))),
      saved.length ? h("optgroup", { label: "saved effectors" }, ...saved.map((r) => h("option", { value: `saved:${r.id}` }, `${r.name} (#${r.id})`))) : null,
      runs.length ? h("optgroup", { label: "trained runs (click a target)" }, ...runs.map((r) => h("option", { value: `run:${r.id}` }, `#${r.id} ${r.name} (${r.status})`))) : null
    );
    this.sourceSel.value = source;
    this.sourceSel.addEventListener("change", () => this.start(this.sourceSel.value));
    this.controls = h("div", { class: "sliders", "data-testid": "sliders" });
    this.modeHint = h("p", { class: "hint" });
    this.fps = h("span", { class: "small muted", "data-testid": "fps" });
    this.readout = h("span", { class: "small muted", "data-testid": "readout" });
    const canvasBox = h("div");
    this.canvas = new ArmCanvas(canvasBox, { testid: "playground-canvas", onClick: (xy) => this.setTarget(xy) });
    this.root.replaceChildren(
      h("h1", {}, "Playground"),
      h(
        "div",
        { class: "cols" },
        h(
          "div",
          {},
          h("section", { class: "panel" }, h("div", { class: "toolbar" }, h("label", {}, "Drive ", this.sourceSel), h("button", { onclick: () => this.reset() }, "Reset posture"), h("button", { onclick: () => this.relax() }, "Relax all")), this.modeHint, this.controls),
          this.explanation()
        ),
        h("section", { class: "panel" }, canvasBox, h("div", { class: "toolbar", style: "margin-top:.4rem" }, this.readout, h("span", { class: "grow" }), this.fps))
      )
    );
    this.raf = requestAnimationFrame((t) => this.frame(t));
    this.sendTimer = setInterval(() => this.pump(), SEND_MS);
    await this.start(source);
  }

  explanation() {
    return h(
      "section",
      { class: "panel explain" },
      h("h2", {}, "What am I looking at?"),
      h("p", {}, "A muscle can only pull. Its ", h("b", {}, "excitation"), " (the slider, 0 to 1) is the command from the nervous system; its ", h("b", {}, "activation"), " follows the excitation with a delay of a few tens of milliseconds, and the ", h("b", {}, "force"), " (the red bar) depends on activation, on the muscle's length and on how fast it is changing length."),
      h("p", {}, "Joints move when the muscles that cross them pull unequally: raise one slider and the arm swings; raise two opposing muscles together and the arm stiffens but barely moves (co-contraction). The point mass has four muscles pulling towards the corners."),
      h("p", {}, "Pick a ", h("b", {}, "trained run"), " in the menu to hand control to its network: click anywhere on the drawing to place a target and watch the policy reach for it, muscle by muscle."),
      h("p", { class: "muted small" }, "Simulation runs on the server, stepped in real time over a websocket (/ws/sim); the drawing is interpolated at the screen's frame rate.")
    );
  }

  async start(source) {
    this.socket?.close();
    this.prev = this.cur = null;
    this.target = null;
    this.ready = false;
    this.inFlight = false;
    let init;
    let effector = null;
    try {
      if (source.startsWith("run:")) {
        const id = source.slice(4);
        const run = await api(`/api/runs/${id}`);
        effector = run.spec.effector;
        init = { type: "init", run_id: Number(id) };
        this.ctx.setParams({ run: id, effector: null });
      } else {
        effector = source.startsWith("saved:") ? (await api(`/api/effectors/${source.slice(6)}`)).spec : this.presets.effectors[source.slice(7)];
        init = { type: "init", effector };
        this.ctx.setParams({ effector: source, run: null });
      }
    } catch (err) {
      toast(`Cannot start: ${errorMessage(err)}`, { error: true });
      return;
    }
    this.effector = effector;
    const anchors = effector.muscles.flatMap((m) => (m.geometry.kind === "path" ? m.geometry.points.filter((p) => p.body === 0).map((p) => [p.x, p.y]) : []));
    this.anchors = anchors;
    const sk = effector.skeleton;
    this.frameBox = sk.kind === "point_mass" && sk.pos_lower_bound && sk.pos_upper_bound ? [sk.pos_lower_bound, sk.pos_upper_bound] : null;
    const cloud = workspace(sk, 10);
    // Fit everything that is drawn, the muscles' fixed ends included, so no muscle runs off the canvas.
    this.canvas.fit(sk.kind === "point_mass" ? [...cloud, ...anchors] : [...cloud, [0, 0], ...anchors], 0.1);
    this.socket = openSocket("/ws/sim", {
      onOpen: () => this.socket.send(init),
      onMessage: (m) => this.onMessage(m),
      onClose: () => {
        this.ready = false;
        this.inFlight = false;
      },
    });
  }

  onMessage(msg) {
    this.inFlight = false;
    if (msg.type === "ready") {
      this.ready = true;
      this.mode = msg.mode;
      this.dt = msg.dt;
      this.names = msg.muscle_names;
      this.renderControls();
      this.push(msg.state);
    } else if (msg.type === "state") this.push(msg);
    else if (msg.type === "error") {
      this.modeHint.textContent = `Server: ${msg.message}`;
      this.modeHint.style.color = "var(--bad)";
    }
  }

  push(state) {
    this.prev = this.cur;
    this.cur = { ...state, at: performance.now() };
    this.readout.textContent = `t = ${fmt(state.t, 3)} s · fingertip (${fmt(state.fingertip?.[0], 3)}, ${fmt(state.fingertip?.[1], 3)}) m`;
    this.updateBars(state);
  }

  renderControls() {
    const policy = this.mode === "policy";
    this.modeHint.style.color = "";
    this.modeHint.textContent = policy
      ? "Click on the drawing to place a target: the trained network drives the muscles. The bars show each muscle's force."
      : "Move a slider to excite a muscle (0 = off, 1 = maximal). The bar shows the force it produces.";
    this.excitation = new Array(this.names.length).fill(0);
    this.bars = [];
    const n = this.names.length;
    const rows = this.names.map((name, i) => {
      const slider = h("input", { type: "range", min: 0, max: 1, step: 0.01, value: 0, "aria-label": `${name} excitation`, "data-testid": `slider-${i}`, disabled: policy });
      const val = h("span", { class: "small" }, "0.00");
      slider.addEventListener("input", () => {
        this.excitation[i] = Number(slider.value);
        val.textContent = Number(slider.value).toFixed(2);
      });
      const bar = h("span", { style: "width:0%" });
      const force = h("span", { class: "small muted force", "data-testid": `force-${i}` }, "0 N");
      this.bars.push({ bar, force, slider, val });
      return h("div", { class: "slider-row" }, h("span", { style: `color:${colour(i, n)};font-weight:600` }, name), policy ? h("div", { class: "bar" }, bar) : slider, policy ? force : val, policy ? h("span") : h("div", {}, h("div", { class: "bar" }, bar), force));
    });
    this.controls.replaceChildren(...rows);
  }

  updateBars(state) {
    if (!this.bars || !state.force) return;
    const fmax = this.effector.muscles.map((m) => m.max_iso_force);
    state.force.forEach((f, i) => {
      const b = this.bars[i];
      if (!b) return;
      b.bar.style.width = `${Math.min(100, Math.max(0, (100 * f) / (fmax[i] || 1)))}%`;
      b.force.textContent = formatForce(f);
      const over = f > 1.5 * (fmax[i] || Infinity);
      b.force.classList.toggle("over", over);
      b.force.title = over ? `${f.toPrecision(3)} N: more than its maximal force (${fmax[i]} N); is the muscle sized for its path? (see the builder's warnings)` : "";
    });
  }

  /** Send the next message when the previous one has been answered (~50/s). */
  pump() {
    if (!this.ready || this.inFlight || !this.socket?.open) return;
    const steps = Math.max(1, Math.round(SEND_MS / 1000 / (this.dt || 0.01)));
    let msg;
    if (this.mode === "policy") {
      if (!this.target) return;
      msg = { type: "target", xy: this.target, steps };
    } else msg = { type: "excitation", values: this.excitation, steps };
    if (this.socket.send(msg)) this.inFlight = true;
  }

  setTarget(xy) {
    if (this.mode !== "policy") {
      toast("Targets need a trained run: pick one in the Drive menu.");
      return;
    }
    this.target = xy;
  }

  reset() {
    if (this.socket?.open) {
      this.socket.send({ type: "reset" });
      this.inFlight = true;
    }
  }

  relax() {
    if (!this.bars) return;
    this.excitation = this.excitation.map(() => 0);
    for (const b of this.bars) {
      b.slider.value = 0;
      b.val.textContent = "0.00";
    }
  }

  frame(ts) {
    this.raf = requestAnimationFrame((t) => this.frame(t));
    this.fpsFrames.push(ts);
    while (this.fpsFrames.length && ts - this.fpsFrames[0] > 1000) this.fpsFrames.shift();
    if (this.fpsFrames.length % 15 === 0) this.fps.textContent = `${this.fpsFrames.length} frames/s`;
    if (!this.cur) return;
    const span = this.prev ? Math.max(this.cur.at - this.prev.at, 1) : 1;
    const w = this.prev ? Math.min(1, (performance.now() - this.cur.at) / span) : 1;
    const joints = lerpPoints(this.prev?.joints, this.cur.joints, w);
    const pointMass = this.effector.skeleton.kind === "point_mass";
    const position = this.prev ? this.prev.position.map((p, i) => p + (this.cur.position[i] - p) * w) : this.cur.position;
    const frames = bodyFrames(this.effector.skeleton, position);
    const act = this.cur.activation ?? [];
    const n = this.effector.muscles.length;
    const paths = this.effector.muscles
      .map((m, i) => ({ points: pathWorldPoints(m, frames), colour: colour(i, n), alpha: 0.25 + 0.75 * Math.min(1, act[i] ?? 0) }))
      .filter((p) => p.points.length);
    const target = this.cur.target ?? this.target;
    this.canvas.draw({
      pointMass,
      paths,
      arms: [{ joints, colour: "#1d2330", width: 8, radius: 10 }],
      targets: target ? [{ xy: target, colour: "#c5221f" }] : [],
      anchors: this.anchors,
      frame: this.frameBox,
      scale: true,
      labels: [this.mode === "policy" ? "click to place a target" : paths.length ? "muscles drawn brighter when active" : "muscle paths are not drawn for this geometry: watch the force bars"],
    });
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    clearInterval(this.sendTimer);
    this.socket?.close();
  }
}
