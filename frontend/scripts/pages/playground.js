// Playground (teaching): drive an effector live over /ws/sim with one slider per muscle, or click a
// target and watch a trained policy reach; switch on a curl field or an endpoint load, follow the
// hand's trail over the reachable workspace, pause and single-step, and share a link for a class
// handout that sets values and locks or hides controls (docs/teaching.md). Animated with requestAnimationFrame.

import { api, errorMessage, getPresets, items } from "../api.js";
import { ArmCanvas } from "../components/arm-canvas.js";
import { colour, fmt, h, toast } from "../dom.js";
import { formatForce } from "../logic/format.js";
import { bodyFrames, pathWorldPoints } from "../logic/geometry.js";
import { lerpPoints } from "../logic/metrics.js";
import {
  SHARE_CONTROLS,
  explainEffector,
  extendTrail,
  loadLabel,
  momentArmLines,
  parseShare,
  perturbationSpecs,
  shareParams,
  workspaceQuads,
} from "../logic/playground.js";
import { workspace } from "../logic/task.js";
import { formatHash } from "../logic/urlstate.js";
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
    this.outbox = []; // control messages (perturb, step, reset) sent before the next regular one
    this.fpsFrames = [];
    this.trail = [];
    this.quads = [];
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
    this.share = parseShare(params);
    this.paused = this.share.paused;
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
    this.explainBox = h("section", { class: "panel explain", "data-control": "explain", "data-testid": "explain" });
    const canvasBox = h("div", { class: "playground-canvas" });
    this.canvas = new ArmCanvas(canvasBox, { testid: "playground-canvas", onClick: (xy) => this.setTarget(xy) });
    this.root.replaceChildren(
      h("div", { class: "toolbar" }, h("h1", { style: "margin:0" }, "Playground"), h("span", { class: "grow" }), h("span", { "data-control": "share" }, h("button", { "data-testid": "share-button", onclick: () => this.openShare() }, "Share link…"))),
      h(
        "div",
        { class: "cols" },
        h(
          "div",
          {},
          h(
            "section",
            { class: "panel" },
            h(
              "div",
              { class: "toolbar" },
              h("label", { "data-control": "source" }, "Drive ", this.sourceSel),
              h("span", { "data-control": "reset" }, h("button", { onclick: () => this.reset(), "data-testid": "reset-button" }, "Reset posture"), " ", h("button", { onclick: () => this.relax(), "data-testid": "relax-button" }, "Relax all"))
            ),
            this.modeHint,
            h("div", { "data-control": "muscles" }, this.controls)
          ),
          this.loadPanel(),
          this.explainBox
        ),
        h(
          "section",
          { class: "panel" },
          canvasBox,
          h("div", { class: "toolbar", style: "margin-top:.4rem" }, this.stepControls(), this.readout, h("span", { class: "grow" }), this.fps),
          h("div", { class: "toolbar small muted", style: "margin:0" }, this.viewControls())
        )
      ),
      this.shareDialog()
    );
    this.applyLocks();
    this.raf = requestAnimationFrame((t) => this.frame(t));
    this.sendTimer = setInterval(() => this.pump(), SEND_MS);
    await this.start(source);
  }

  // -- controls --------------------------------------------------------------------------------------
  loadPanel() {
    const s = this.share;
    const num = (value, attrs) => h("input", { type: "number", value, style: "width:5.5rem", ...attrs });
    this.curlOn = h("input", { type: "checkbox", checked: s.curl > 0, "data-testid": "curl-toggle" });
    this.curlGain = num(s.curl > 0 ? s.curl : 10, { min: 0, max: 200, step: 1, "data-testid": "curl-gain", "aria-label": "curl field gain [N s/m]" });
    this.curlDir = h("select", { "data-testid": "curl-dir", "aria-label": "curl field direction" }, h("option", { value: "cw" }, "clockwise"), h("option", { value: "ccw" }, "counter-clockwise"));
    this.curlDir.value = s.curlDir;
    this.loadOn = h("input", { type: "checkbox", checked: s.load > 0, "data-testid": "load-toggle" });
    this.loadMag = num(s.load > 0 ? s.load : 5, { min: 0, max: 50, step: 0.5, "data-testid": "load-magnitude", "aria-label": "load magnitude [N]" });
    this.loadAngle = num(s.loadAngle, { min: -360, max: 360, step: 15, "data-testid": "load-angle", "aria-label": "load direction [deg]" });
    for (const el of [this.curlOn, this.curlGain, this.curlDir, this.loadOn, this.loadMag, this.loadAngle]) el.addEventListener("change", () => this.sendLoads());
    return h(
      "section",
      { class: "panel loads" },
      h("h2", {}, "Forces on the hand"),
      h("div", { class: "load-row", "data-control": "curl" }, h("label", {}, this.curlOn, " Curl field"), h("span", {}, "k = ", this.curlGain, " N s/m"), this.curlDir),
      h("div", { class: "load-row", "data-control": "load" }, h("label", {}, this.loadOn, " Endpoint load"), h("span", {}, this.loadMag, " N"), h("span", {}, "at ", this.loadAngle, " ° (0 = right, 90 = up)")),
      h("p", { class: "hint", style: "margin:.4rem 0 0" }, "Applied by the simulation at every step (the orange arrow on the hand is the force now).")
    );
  }

  stepControls() {
    this.pauseBtn = h("button", { "data-testid": "pause-button", onclick: () => this.setPaused(!this.paused) });
    this.stepBtn = h("button", { "data-testid": "step-button", title: "advance the simulation by one time step", onclick: () => this.stepOnce() }, "Step ▸|");
    this.setPaused(this.paused);
    return h("span", { "data-control": "step" }, this.pauseBtn, " ", this.stepBtn);
  }

  viewControls() {
    this.trailOn = h("input", { type: "checkbox", checked: this.share.trail, "data-testid": "trail-toggle" });
    this.wsOn = h("input", { type: "checkbox", checked: this.share.workspace, "data-testid": "workspace-toggle" });
    return [
      h("span", { "data-control": "trail" }, h("label", {}, this.trailOn, " hand-path trail"), " ", h("button", { class: "small", "data-testid": "clear-trail", onclick: () => (this.trail = []) }, "Clear")),
      h("span", { "data-control": "workspace" }, h("label", { title: "every fingertip position the joint limits allow" }, this.wsOn, " reachable workspace (shaded)")),
    ];
  }

  loads() {
    return {
      curl: this.curlOn.checked ? Math.max(0, Number(this.curlGain.value) || 0) : 0,
      curlDir: this.curlDir.value,
      load: this.loadOn.checked ? Math.max(0, Number(this.loadMag.value) || 0) : 0,
      loadAngle: Number(this.loadAngle.value) || 0,
    };
  }

  sendLoads() {
    this.queue({ type: "perturb", perturbations: perturbationSpecs(this.loads()) });
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseBtn.textContent = paused ? "Run ▶" : "Pause ❚❚";
    this.pauseBtn.title = paused ? "run the simulation in real time" : "stop the clock (then step one dt at a time)";
  }

  stepOnce() {
    if (!this.ready) return;
    this.setPaused(true);
    const msg = this.regularMessage(1);
    if (msg) this.queue(msg);
    else toast("Place a target first: click on the drawing.");
  }

  /** Lock (disable) or hide the controls the link names. */
  applyLocks() {
    for (const el of this.root.querySelectorAll("[data-control]")) {
      const id = el.dataset.control;
      el.hidden = this.share.hidden.has(id);
      const locked = this.share.locked.has(id);
      el.classList.toggle("locked", locked);
      if (locked) {
        el.title = "locked by this link";
        for (const input of el.querySelectorAll("input, select, button")) input.disabled = true;
      }
    }
  }

  // -- the simulation ----------------------------------------------------------------------------------
  async start(source) {
    this.socket?.close();
    this.prev = this.cur = null;
    this.target = null;
    this.ready = false;
    this.inFlight = false;
    this.outbox = [];
    this.trail = [];
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
    this.source = source;
    this.effector = effector;
    const anchors = effector.muscles.flatMap((m) => (m.geometry.kind === "path" ? m.geometry.points.filter((p) => p.body === 0).map((p) => [p.x, p.y]) : []));
    this.anchors = anchors;
    const sk = effector.skeleton;
    this.frameBox = sk.kind === "point_mass" && sk.pos_lower_bound && sk.pos_upper_bound ? [sk.pos_lower_bound, sk.pos_upper_bound] : null;
    const cloud = workspace(sk, 10);
    // Fit everything that is drawn, the muscles' fixed ends included, so no muscle runs off the canvas.
    this.canvas.fit(sk.kind === "point_mass" ? [...cloud, ...anchors] : [...cloud, [0, 0], ...anchors], 0.1);
    this.socket = openSocket("/ws/sim", {
      onOpen: () => this.socket.send({ ...init, perturbations: perturbationSpecs(this.loads()) }),
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
      this.quads = workspaceQuads(msg.workspace);
      // fit the view to the reachable region the server computed (and the muscles' fixed ends)
      const reach = (msg.workspace ?? []).flat(2);
      if (reach.length) this.canvas.fit([...reach, ...this.anchors, ...(this.effector.skeleton.kind === "point_mass" ? [] : [[0, 0]])], 0.08);
      this.renderControls();
      this.renderExplanation(msg.start_moment_arm);
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
    if (state.step === 0) this.trail = [];
    this.trail = extendTrail(this.trail, state.fingertip);
    const f = state.endpoint_force ?? [0, 0];
    const force = Math.hypot(f[0], f[1]) > 1e-6 ? ` · force on the hand (${fmt(f[0], 2)}, ${fmt(f[1], 2)}) N` : "";
    this.readout.textContent = `step ${state.step ?? "—"} · t = ${fmt(state.t, 3)} s · fingertip (${fmt(state.fingertip?.[0], 3)}, ${fmt(state.fingertip?.[1], 3)}) m${force}`;
    this.root.querySelector("[data-testid=playground-canvas]").dataset.step = String(state.step ?? "");
    this.updateBars(state);
  }

  renderControls() {
    const policy = this.mode === "policy";
    this.modeHint.style.color = "";
    this.modeHint.textContent = policy
      ? "Click on the drawing to place a target: the trained network drives the muscles. The bars show each muscle's force."
      : "Move a slider to excite a muscle (0 = off, 1 = maximal). The bar shows the force it produces.";
    const start = this.share.excitation?.length === this.names.length ? this.share.excitation : null;
    this.share.excitation = null; // a link's excitations hold for its first effector only
    this.excitation = start ? [...start] : new Array(this.names.length).fill(0);
    this.bars = [];
    const n = this.names.length;
    const rows = this.names.map((name, i) => {
      const slider = h("input", { type: "range", min: 0, max: 1, step: 0.01, value: this.excitation[i], "aria-label": `${name} excitation`, "data-testid": `slider-${i}`, disabled: policy });
      const val = h("span", { class: "small" }, this.excitation[i].toFixed(2));
      slider.addEventListener("input", () => {
        this.excitation[i] = Number(slider.value);
        val.textContent = Number(slider.value).toFixed(2);
      });
      const bar = h("span", { style: "width:0%" });
      const force = h("span", { class: "small muted force", "data-testid": `force-${i}` }, "0 N");
      this.bars.push({ bar, force, slider, val });
      return h("div", { class: "slider-row" }, h("span", { style: `color:${colour(i, n)};font-weight:600`, title: name }, name), policy ? h("div", { class: "bar" }, bar) : slider, policy ? force : val, policy ? h("span") : h("div", {}, h("div", { class: "bar" }, bar), force));
    });
    this.controls.replaceChildren(...rows);
    if (this.share.locked.has("muscles")) for (const b of this.bars) b.slider.disabled = true;
  }

  renderExplanation(startMomentArm) {
    const e = explainEffector(this.effector, startMomentArm);
    this.explained = e;
    const n = this.effector.muscles.length;
    const policy = this.mode === "policy";
    this.explainBox.replaceChildren(
      h("h2", {}, "What am I looking at?"),
      h("p", { "data-testid": "explain-intro" }, e.intro),
      h("ul", { class: n > 6 ? "muscle-roles two" : "muscle-roles", "data-testid": "explain-muscles" }, ...e.muscles.map((m, i) => h("li", {}, h("b", { style: `color:${colour(i, n)}` }, m.name), `: ${m.text}`))),
      h("p", {}, "A muscle's ", h("b", {}, "excitation"), " (its slider, 0 to 1) is the command from the nervous system; its ", h("b", {}, "activation"), " follows with a delay of a few tens of milliseconds, and its ", h("b", {}, "force"), " (the red bar) depends on activation, on the muscle's length and on how fast that length changes. ", e.action),
      h("p", { "data-testid": "explain-lines" }, e.lines),
      h("p", {}, h("b", {}, "Curl field"), ": a force on the hand proportional to its speed and at right angles to its motion (F = k [ẏ, −ẋ]; clockwise for k > 0), as in the force-field adaptation experiments of Shadmehr & Mussa-Ivaldi (1994). It does nothing while the hand is still. ", h("b", {}, "Endpoint load"), ": a constant force on the hand, as if a weight hung from it."),
      h("p", {}, "The ", h("b", {}, "shaded region"), ` is the reachable workspace: every position the ${e.kind === "point_mass" ? "mass may take inside its bounds" : `fingertip reaches with the ${e.jointsText} inside their limits`}. The blue line is the hand's trail. `, h("b", {}, "Pause"), " stops the clock; ", h("b", {}, "Step"), ` advances it by one time step (${fmt(this.dt, 3)} s).`),
      policy ? h("p", {}, "This is a trained run: click on the drawing to place a target and watch its network reach for it, muscle by muscle. Switch a curl field on to see the trained network's path bend.") : this.share.hidden.has("source") ? "" : h("p", {}, "Pick a ", h("b", {}, "trained run"), " in the Drive menu to hand control to its network."),
      h("p", { class: "muted small" }, "Simulation runs on the server, stepped in real time over a websocket (/ws/sim); the drawing is interpolated at the screen's frame rate.")
    );
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

  /** The message that advances the simulation by `steps` (null: policy mode without a target). */
  regularMessage(steps) {
    if (this.mode === "policy") {
      const xy = this.target ?? this.cur?.target;
      return xy ? { type: "target", xy, steps } : null;
    }
    return { type: "excitation", values: this.excitation, steps };
  }

  queue(msg) {
    this.outbox.push(msg);
    this.pump();
  }

  /** Send the next message when the previous one has been answered (~50/s): control messages first. */
  pump() {
    if (!this.ready || this.inFlight || !this.socket?.open) return;
    let msg = this.outbox.shift();
    if (!msg) {
      if (this.paused) return;
      if (this.mode === "policy" && !this.target) return;
      msg = this.regularMessage(Math.max(1, Math.round(SEND_MS / 1000 / (this.dt || 0.01))));
    }
    if (msg && this.socket.send(msg)) this.inFlight = true;
  }

  setTarget(xy) {
    if (this.mode !== "policy") {
      // a handout that hides the Drive menu offers no run to pick
      toast(this.share.hidden.has("source") ? "Targets need a trained run; here you drive the muscles with the sliders." : "Targets need a trained run: pick one in the Drive menu.");
      return;
    }
    this.target = xy;
  }

  reset() {
    this.queue({ type: "reset" });
  }

  relax() {
    if (!this.bars) return;
    this.excitation = this.excitation.map(() => 0);
    for (const b of this.bars) {
      b.slider.value = 0;
      b.val.textContent = "0.00";
    }
  }

  // -- the share dialog ----------------------------------------------------------------------------------
  shareDialog() {
    this.shareLink = h("input", { type: "text", readonly: true, "data-testid": "share-link", style: "width:100%", "aria-label": "link" });
    this.shareChecks = {};
    const rows = SHARE_CONTROLS.map(([id, label]) => {
      const lock = h("input", { type: "checkbox", "data-testid": `share-lock-${id}`, "aria-label": `lock ${label}` });
      const hide = h("input", { type: "checkbox", "data-testid": `share-hide-${id}`, "aria-label": `hide ${label}` });
      lock.addEventListener("change", () => this.updateShareLink());
      hide.addEventListener("change", () => {
        lock.disabled = hide.checked;
        this.updateShareLink();
      });
      this.shareChecks[id] = { lock, hide };
      return h("tr", {}, h("td", {}, label), h("td", { class: "c" }, lock), h("td", { class: "c" }, hide));
    });
    const copy = h("button", { class: "primary", "data-testid": "share-copy", onclick: () => this.copyShareLink() }, "Copy link");
    this.shareOpen = h("a", { class: "button", target: "_blank", rel: "noopener", "data-testid": "share-open" }, "Open in a new tab");
    this.dialog = h(
      "dialog",
      { class: "share-dialog", "data-testid": "share-dialog" },
      h("h2", {}, "Share this playground"),
      h("p", { class: "hint" }, "The link opens the playground as it is now: the effector or run, the loads, the trail and workspace toggles, the sliders' excitations and whether it is paused. For a class handout, lock the controls students should see but not change, and hide the ones they do not need."),
      h("table", { class: "share-table" }, h("thead", {}, h("tr", {}, h("th", {}, "control"), h("th", {}, "lock"), h("th", {}, "hide"))), h("tbody", {}, ...rows)),
      h("p", {}, this.shareLink),
      h("div", { class: "toolbar", style: "margin:0" }, copy, this.shareOpen, h("span", { class: "grow" }), h("button", { "data-testid": "share-close", onclick: () => this.dialog.close() }, "Close"))
    );
    return this.dialog;
  }

  openShare() {
    for (const [id, c] of Object.entries(this.shareChecks)) {
      c.lock.checked = this.share.locked.has(id);
      c.hide.checked = this.share.hidden.has(id);
      c.lock.disabled = c.hide.checked;
    }
    this.updateShareLink();
    this.dialog.showModal();
  }

  updateShareLink() {
    const pick = (kind) => Object.entries(this.shareChecks).filter(([, c]) => c[kind].checked && !(kind === "lock" && c.hide.checked)).map(([id]) => id);
    const state = { source: this.source, ...this.loads(), trail: this.trailOn.checked, workspace: this.wsOn.checked, paused: this.paused, excitation: this.mode === "excitation" ? this.excitation : null };
    const hash = formatHash("playground", shareParams(state, { lock: pick("lock"), hide: pick("hide") }));
    const url = `${location.origin}${location.pathname}${hash}`;
    this.shareLink.value = url;
    this.shareOpen.href = url;
  }

  async copyShareLink() {
    this.shareLink.select();
    try {
      await navigator.clipboard.writeText(this.shareLink.value);
      toast("Link copied.");
    } catch {
      toast("Select the link and copy it (the browser refused clipboard access here).");
    }
  }

  // -- drawing -----------------------------------------------------------------------------------------------
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
    const standIns = this.cur.moment_arm ? momentArmLines(joints, this.cur.moment_arm, { pointMass }) : [];
    const paths = this.effector.muscles
      .map((m, i) => {
        const alpha = 0.25 + 0.75 * Math.min(1, act[i] ?? 0);
        if (m.geometry.kind === "path") return { points: pathWorldPoints(m, frames), colour: colour(i, n), alpha };
        return { points: standIns[i] ?? [], colour: colour(i, n), alpha: Math.max(alpha, 0.5), dashed: true };
      })
      .filter((p) => p.points.length);
    const target = this.cur.target ?? this.target;
    const tip = this.cur.fingertip;
    const f = this.cur.endpoint_force;
    const labels = [this.mode === "policy" ? "click to place a target" : "muscles drawn brighter when active"];
    if (this.effector.muscles.some((m) => m.geometry.kind !== "path")) labels.push("dashed: stand-in lines from the moment arms (no attachment points)");
    const loads = loadLabel(this.loads());
    if (loads) labels.push(loads);
    if (this.paused) labels.push("paused: Step advances one time step");
    this.canvas.draw({
      pointMass,
      workspace: this.wsOn.checked ? this.quads : [],
      paths,
      trail: this.trailOn.checked ? { points: this.trail, colour: "#2f6fdf" } : null,
      arms: [{ joints, colour: "#1d2330", width: 8, radius: 10 }],
      targets: target ? [{ xy: target, colour: "#c5221f" }] : [],
      anchors: this.anchors,
      frame: this.frameBox,
      forces: f && tip ? [{ at: joints[joints.length - 1], vec: f, colour: "#d97706" }] : [],
      scale: true,
      labels,
    });
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    clearInterval(this.sendTimer);
    this.socket?.close();
    if (this.dialog?.open) this.dialog.close();
  }
}
