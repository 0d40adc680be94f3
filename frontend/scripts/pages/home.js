// Start page: what the studio does and where to begin.

import { api, errorMessage, items } from "../api.js";
import { h } from "../dom.js";

const STEPS = [
  ["1", "Build an effector", "#/effector", "Pick a skeleton (point mass, two- or three-link arm), add muscles, drag their attachment points and see their lengths and moment arms change."],
  ["2", "Design a task", "#/task", "Choose what the network must do (reach to targets, hold a posture, track a path), add delays, noise and force fields, set the loss and training."],
  ["3", "Launch and watch runs", "#/runs", "Train in the background, watch the loss fall and the arm learn to reach, live. Tick several runs to compare them."],
  ["4", "Play", "#/playground", "Drive a limb yourself with one slider per muscle, or hand it to a trained network and click targets."],
  ["★", "Studies", "#/studies", "Rerun the MotorNet paper's experiments in one click: muscle curves, moment arms, curl-field adaptation, posture under loads, preferred directions.", "extra"],
];

export async function mount(root) {
  const recent = h("div", { class: "small" }, "Loading recent runs…");
  root.replaceChildren(
    h("h1", {}, "Welcome to MotorNet Studio"),
    h("p", { class: "hint", style: "max-width:60rem" }, "Train recurrent neural networks to control simulated muscles and bones, then look inside them. New here? Try the quick path: open Runs, launch the tutorial_point_mass preset with 200 iterations, and open it to watch it learn."),
    h(
      "div",
      { class: "cards" },
      ...STEPS.map(([n, title, href, text, kind]) =>
        h("a", { class: "card", href, style: "text-decoration:none;color:inherit", "data-testid": `card-${href.slice(2)}` }, h("h2", {}, h("span", { class: kind ? `step ${kind}` : "step" }, n), title), h("p", { class: "small" }, text))
      )
    ),
    h("section", { class: "panel", style: "margin-top:1rem" }, h("h2", {}, "Recent runs"), recent)
  );
  try {
    const runs = items(await api("/api/runs")).slice(0, 5);
    recent.replaceChildren(
      runs.length
        ? h("ul", {}, ...runs.map((r) => h("li", {}, h("a", { href: `#/run?id=${r.id}` }, `#${r.id} ${r.name}`), " ", h("span", { class: `badge ${r.status}` }, r.status))))
        : "No runs yet."
    );
  } catch (err) {
    recent.textContent = `Could not load runs: ${errorMessage(err)}`;
  }
  return { title: "Start" };
}
