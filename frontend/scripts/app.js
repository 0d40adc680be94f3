// Entry point: hash router, navigation highlight and the server-down banner.

import { checkHealth, serverEvents } from "./api.js";
import { h, setChildren } from "./dom.js";
import { formatHash, parseHash, updateHash } from "./logic/urlstate.js";

const PAGE_MODULES = {
  home: () => import("./pages/home.js"),
  effector: () => import("./pages/effector.js"),
  task: () => import("./pages/task.js"),
  runs: () => import("./pages/runs.js"),
  run: () => import("./pages/run.js"),
  playground: () => import("./pages/playground.js"),
  studies: () => import("./pages/studies.js"),
  experiments: () => import("./pages/experiments.js"),
  "experiment-new": () => import("./pages/experiment-new.js"),
  experiment: () => import("./pages/experiment.js"),
};

/** The nav entry a page belongs to (a run under Runs, an experiment and its designer under Experiments). */
const NAV_OF = { run: "runs", experiment: "experiments", "experiment-new": "experiments" };

let current = null; // {page, instance, owner}
let routing = Promise.resolve();

/**
 * Context handed to a page. `owner.hash` is the URL the page is shown for: its own setParams
 * rewrites move it along; anything else that changes the URL is a navigation away, after which the
 * page (still mounting, or about to be destroyed) may no longer touch the URL.
 */
function pageContext(owner) {
  return {
    /** Navigate to another page (adds a history entry). */
    go(page, params = {}) {
      location.hash = formatHash(page, params);
    },
    /** Update this page's URL state without reloading the page (replaces the history entry). */
    setParams(changes) {
      if (location.hash !== owner.hash) return; // navigated away: the next page owns the URL
      const next = updateHash(location.hash, changes);
      if (next === location.hash) return;
      history.replaceState(null, "", next);
      owner.hash = location.hash;
    },
    params() {
      return parseHash(location.hash).params;
    },
  };
}

async function route() {
  const hash = location.hash;
  const { page, params } = parseHash(hash);
  for (const a of document.querySelectorAll("#nav a")) {
    const on = a.dataset.page === (NAV_OF[page] ?? page);
    a.classList.toggle("active", on);
  }
  if (current && current.owner.hash === hash) return;
  if (current && current.page === page && current.instance.update) {
    current.owner.hash = hash;
    current.instance.update(params);
    return;
  }
  if (current) {
    current.owner.hash = null; // a page destroyed (or whose mount still finishes) leaves the URL alone
    current.instance.destroy?.();
  }
  const root = document.getElementById("page");
  setChildren(root);
  const mod = await PAGE_MODULES[page]();
  // The page may rewrite its own URL state while mounting (kept in owner.hash). A navigation that
  // happens meanwhile changes the URL before its hashchange fires (a later task): that route then
  // finds owner.hash != location.hash and replaces this page.
  const owner = { hash };
  const instance = (await mod.mount(root, params, pageContext(owner))) ?? {};
  current = { page, instance, owner };
  document.title = `${instance.title ?? "MotorNet Studio"} · MotorNet Studio`;
}

function scheduleRoute() {
  routing = routing.then(route).catch((err) => {
    console.warn("page failed to load", err);
    setChildren(document.getElementById("page"), h("div", { class: "errorbox" }, `This page failed to load: ${err.message}`));
  });
}

// Server banner: shown while the server cannot be reached, with a retry countdown.
let retryTimer = null;
let countdown = 0;

function showBanner() {
  const banner = document.getElementById("banner");
  const status = document.getElementById("server-status");
  status.classList.add("down");
  status.title = "server unreachable";
  banner.hidden = false;
  const retry = h("button", { onclick: () => tryReconnect() }, "Retry now");
  setChildren(
    banner,
    h("strong", {}, "Cannot reach the MotorNet Studio server."),
    h("span", { id: "banner-count" }, countdown ? `Retrying in ${countdown} s…` : "Retrying…"),
    retry,
    h("span", { class: "small" }, "Start it with: bash scripts/studio.sh")
  );
}

function hideBanner() {
  document.getElementById("banner").hidden = true;
  const status = document.getElementById("server-status");
  status.classList.remove("down");
  status.title = "server connected";
  clearInterval(retryTimer);
  retryTimer = null;
}

async function tryReconnect() {
  const ok = await checkHealth();
  if (ok) hideBanner();
  else countdown = 5;
}

serverEvents.addEventListener("down", () => {
  countdown = 5;
  showBanner();
  clearInterval(retryTimer);
  retryTimer = setInterval(() => {
    countdown -= 1;
    const el = document.getElementById("banner-count");
    if (el) el.textContent = countdown > 0 ? `Retrying in ${countdown} s…` : "Retrying…";
    if (countdown <= 0) tryReconnect();
  }, 1000);
});
serverEvents.addEventListener("up", () => {
  const wasDown = !document.getElementById("banner").hidden;
  hideBanner();
  if (wasDown && current) {
    // Reload the page so it refetches what it could not load while the server was away.
    current.owner.hash = null;
    scheduleRoute();
  }
});

window.addEventListener("hashchange", scheduleRoute);
scheduleRoute();
checkHealth();
