// Rendering of a generation's status: badge, lifecycle steps, facts. Mirrors views.status_steps.

const STEPS = [
  ["queued", "Queued", "created"],
  ["submitted", "Submitted", "submitted"],
  ["processing", "Processing", "processing"],
  ["receiving", "Receiving", "receiving"],
  ["done", "Done", "completed"],
];
const ORDER = { queued: 0, submitted: 1, processing: 2, receiving: 3, done: 4, failed: 4 };
const BADGE_CLASSES = ["queued", "submitted", "processing", "receiving", "done", "failed", "partial"].map(
  (s) => `badge--${s}`,
);

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** "$0.0300" from a decimal string; amounts are kept to 1/100 of a cent, as on the server. */
export function money(value) {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, fraction = ""] = String(value).split(".");
  return `$${whole}.${(fraction + "0000").slice(0, 4)}`;
}

export function renderBadge(badge, event) {
  if (!badge) return;
  badge.classList.remove(...BADGE_CLASSES);
  badge.classList.add(`badge--${event.status}`);
  // Done with Runware's error (missing results, or one sent after them): never a plain green "Done".
  if (event.status === "done" && (event.partial || event.error_code)) badge.classList.add("badge--partial");
  badge.textContent = event.status_label || event.status;
}

export function renderSteps(list, event) {
  if (!list) return;
  const current = ORDER[event.status] ?? 0;
  const failed = event.status === "failed";
  const terminal = event.status === "done" || failed;
  const stamps = event.timestamps || {};
  list.replaceChildren();
  STEPS.forEach(([key, label, stampKey], index) => {
    const stamp = stampKey ? stamps[stampKey] : null;
    const item = document.createElement("li");
    item.className = "step";
    item.dataset.step = key;
    let state = "(not yet)";
    if (index < current) {
      if (!failed || stamp || index === 0 || (key === "receiving" && event.results_received > 0)) {
        item.classList.add("is-done");
        state = "(done)";
      } else {
        item.classList.add("is-skipped");
      }
    } else if (index === current) {
      item.classList.add("is-current");
      state = "(current)";
      if (terminal) {
        item.classList.add("is-final", failed ? "is-failed" : "is-done");
        state = failed ? "(failed)" : "(done)";
      }
    }
    const dot = document.createElement("span");
    dot.className = "step-dot";
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "step-label";
    name.textContent = key === "done" ? finalLabel(event, label) : label;
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = state;
    const time = document.createElement("time");
    time.className = "step-time";
    if (stamp) {
      time.dateTime = stamp;
      time.textContent = formatTime(stamp);
    }
    item.append(dot, name, hidden, time);
    list.append(item);
  });
}

function finalLabel(event, label) {
  if (event.status === "failed") return "Failed";
  if (event.partial) return "Done, some results failed";
  return label;
}

export function resultsText(event) {
  return `${event.results_received ?? 0} of ${event.number_results ?? 1}`;
}

/** "45 s", "1 min 10 s", "1 h 5 min". */
export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return total % 60 ? `${minutes} min ${total % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** "~2 min" for an estimate: whole minutes past one minute, tens of seconds below it. */
export function roughly(seconds) {
  if (seconds < 60) return `~${Math.max(10, Math.round(seconds / 10) * 10)} s`;
  return `~${Math.round(seconds / 60)} min`;
}

function since(iso, now) {
  const start = iso ? new Date(iso).getTime() : NaN;
  return Number.isNaN(start) ? null : Math.max(0, (now - start) / 1000);
}

const TERMINAL = new Set(["done", "failed"]);

/** What is happening right now, in words, with the time spent in the current step. */
export function liveText(event, now = Date.now()) {
  const stamps = event.timestamps || {};
  const inStep = (key) => {
    const seconds = since(stamps[key] || stamps.created, now);
    return seconds === null ? "" : ` (${duration(seconds)})`;
  };
  if (event.unknown_since && !TERMINAL.has(event.status)) {
    const lost = since(event.unknown_since, now);
    return `Runware no longer knows this task (for ${duration(lost ?? 0)}); unless it reappears, the run ends failed`;
  }
  switch (event.status) {
    case "queued":
      return `Queued — sending to Runware${inStep("created")}`;
    case "submitted":
      return `Submitted — waiting for Runware${inStep("submitted")}`;
    case "processing":
      return `Processing at Runware${inStep("processing")}`;
    case "receiving":
      return `Receiving results — ${resultsText(event)}${inStep("receiving")}`;
    case "done": {
      const took = since(stamps.created, new Date(stamps.completed || now).getTime());
      const time = took === null ? "" : ` in ${duration(took)}`;
      if (event.partial) return `Done${time} — ${resultsText(event)} results, ${event.results_failed} failed`;
      return `Done${time}`;
    }
    default: {
      const took = since(stamps.created, new Date(stamps.completed || now).getTime());
      return took === null ? "Failed" : `Failed after ${duration(took)}`;
    }
  }
}

/** The ETA line of a run in flight: "about 2 min left", "usually ~2 min", "taking longer than usual". */
export function etaText(event, now = Date.now()) {
  const eta = event.eta;
  if (!eta || TERMINAL.has(event.status)) return { text: "", late: false };
  const elapsed = since((event.timestamps || {}).created, now) ?? 0;
  const basis = eta.basis === "team" ? "" : " (a first guess until the team has more runs)";
  if (elapsed > eta.p90_seconds) {
    return { text: `Taking longer than usual — usually ${roughly(eta.p50_seconds)}`, late: true };
  }
  const left = eta.p50_seconds - elapsed;
  if (left >= 5) return { text: `About ${duration(left >= 120 ? Math.round(left / 60) * 60 : left)} left${basis}`, late: false };
  return { text: `Usually ${roughly(eta.p50_seconds)}; should be done any moment`, late: false };
}

const clocked = new Set();
let clock = null;

function renderLive(root, event) {
  const now = Date.now();
  root.querySelectorAll("[data-live-text]").forEach((node) => (node.textContent = liveText(event, now)));
  const { text, late } = etaText(event, now);
  root.querySelectorAll("[data-eta]").forEach((node) => {
    node.textContent = text;
    node.hidden = !text;
    node.classList.toggle("is-late", late);
  });
  root.classList.toggle("is-late", late);
}

function tick() {
  for (const root of clocked) {
    if (!root.isConnected) clocked.delete(root);
    else renderLive(root, root.runEvent);
  }
  if (!clocked.size) {
    clearInterval(clock);
    clock = null;
  }
}

/** Keep the elapsed time and the ETA of a run in flight counting, once a second. */
function follow(root, event) {
  root.runEvent = event;
  renderLive(root, event);
  if (TERMINAL.has(event.status)) {
    clocked.delete(root);
    return;
  }
  clocked.add(root);
  if (!clock) clock = setInterval(tick, 1000);
}

/** Fill every [data-*] slot found under root from a generation.status event. */
export function renderStatus(root, event) {
  if (!root || !event) return;
  root.dataset.status = event.status;
  root.querySelectorAll("[data-badge]").forEach((badge) => renderBadge(badge, event));
  root.querySelectorAll("[data-steps]").forEach((list) => renderSteps(list, event));
  root.querySelectorAll("[data-results]").forEach((node) => (node.textContent = resultsText(event)));
  root.querySelectorAll("[data-estimate]").forEach((node) => (node.textContent = money(event.estimated_cost)));
  root.querySelectorAll("[data-actual]").forEach((node) => (node.textContent = money(event.actual_cost)));
  // Money spent without a result to show: visible wherever the run appears.
  root.querySelectorAll("[data-charge-flag]").forEach((node) => {
    node.textContent = event.charge_flag || "";
    node.hidden = !event.charge_flag;
  });
  root.querySelectorAll("[data-charge-note]").forEach((node) => (node.hidden = !event.charge_flag));
  root.querySelectorAll("[data-reserved]").forEach((node) => (node.textContent = money(event.reserved_cost)));
  root.querySelectorAll("[data-error]").forEach((node) => {
    // A done run shows Runware's error too: the one of its missing results, or one sent after them.
    if (event.status === "failed") node.textContent = event.error || "The generation failed.";
    else node.textContent = event.error || "";
    node.classList.toggle("is-warning", event.status !== "failed");
  });
  follow(root, event);
}

/** Server-rendered <time datetime> values are UTC; show them in the viewer's own time zone. */
export function localizeTimes(root = document) {
  root.querySelectorAll("time[data-local][datetime]").forEach((node) => {
    const text = node.dataset.local === "time" ? formatTime(node.dateTime) : formatDateTime(node.dateTime);
    if (text) node.textContent = text;
  });
}
