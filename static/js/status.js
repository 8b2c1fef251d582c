// Rendering of a generation's status: badge, lifecycle steps, facts. Mirrors views.status_steps.

const STEPS = [
  ["queued", "Queued", "created"],
  ["submitted", "Submitted", "submitted"],
  ["processing", "Processing", "processing"],
  ["receiving", "Receiving", null],
  ["done", "Done", "completed"],
];
const ORDER = { queued: 0, submitted: 1, processing: 2, receiving: 3, done: 4, failed: 4 };
const BADGE_CLASSES = ["queued", "submitted", "processing", "receiving", "done", "failed"].map((s) => `badge--${s}`);

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
    name.textContent = failed && key === "done" ? "Failed" : label;
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

export function resultsText(event) {
  return `${event.results_received ?? 0} of ${event.number_results ?? 1}`;
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
    node.textContent = event.status === "failed" ? event.error || "The generation failed." : "";
  });
}

/** Server-rendered <time datetime> values are UTC; show them in the viewer's own time zone. */
export function localizeTimes(root = document) {
  root.querySelectorAll("time[data-local][datetime]").forEach((node) => {
    const text = node.dataset.local === "time" ? formatTime(node.dateTime) : formatDateTime(node.dateTime);
    if (text) node.textContent = text;
  });
}
