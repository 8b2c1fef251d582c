// Tell the user when one of their runs ends while this tab is in the background: a browser notification
// (once they have asked for it) and a count in the tab's title ("(1) Create · Animate Studio").
//
// The page holds one [data-notify-control] block (templates/animate/_notify.html) carrying the user's id.
// Permission is asked only from a click on its "Notify me when runs finish" button, never on page load;
// the choice is remembered in this browser (localStorage), so other pages and later visits follow it.
// Only a run seen in flight and then ending counts: runs that had already ended when the page learned
// of them (snapshots, a reload) never notify. Clicking a notification focuses the tab and opens the run.

import { subscribe } from "./live.js";

const STORAGE_KEY = "animate.notify";
const TERMINAL = new Set(["done", "failed"]);
const BADGE = /^\(\d+\) /;

const control = document.querySelector("[data-notify-control]");
const userId = Number(control?.dataset.userId);
const button = control?.querySelector("[data-notify-toggle]");
const note = control?.querySelector("[data-notify-note]");
const supported = "Notification" in window;
const lastStatus = new Map(); // generation id -> the last status this page saw
let unseen = 0;

function stored() {
  try {
    return window.localStorage.getItem(STORAGE_KEY) === "on";
  } catch {
    return false; // storage refused (private mode): nothing is remembered
  }
}

function remember(on) {
  try {
    window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Not remembered; the choice still holds for this page.
  }
  wanted = on;
}

let wanted = stored();

function enabled() {
  return supported && wanted && Notification.permission === "granted";
}

function renderControl() {
  if (!control) return;
  control.hidden = !supported;
  if (!supported) return;
  const blocked = Notification.permission === "denied";
  const on = enabled();
  button.disabled = blocked;
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.textContent = on ? "Notifications on · turn off" : "Notify me when runs finish";
  note.textContent = blocked
    ? "Notifications are blocked for this site; allow them in the browser's site settings."
    : on
      ? "You get a notification when one of your runs ends while this tab is in the background."
      : "";
}

button?.addEventListener("click", async () => {
  if (enabled()) {
    remember(false);
  } else if (Notification.permission === "granted") {
    remember(true);
  } else {
    // Asked here, from the user's click, and nowhere else.
    const answer = await Notification.requestPermission();
    remember(answer === "granted");
  }
  renderControl();
});

function setBadge() {
  const title = document.title.replace(BADGE, "");
  document.title = unseen > 0 ? `(${unseen}) ${title}` : title;
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  unseen = 0;
  setBadge();
});

function money(value) {
  return value === null || value === undefined ? "" : ` · $${value}`;
}

function describe(event) {
  if (event.status === "failed") {
    return { title: `Generation #${event.id} failed`, body: event.error || "The run ended without a result." };
  }
  const results = `${event.results_received ?? 0} of ${event.number_results ?? 1} results`;
  if (event.partial) {
    // Some results failed at Runware: say so, not a plain "done".
    const why = event.error ? ` · ${event.error}` : "";
    return { title: `Generation #${event.id} is done with ${results}`, body: `${results}${money(event.actual_cost)}${why}` };
  }
  return { title: `Generation #${event.id} is done`, body: `${results}${money(event.actual_cost)}` };
}

function open(url) {
  window.focus();
  if (url && window.location.pathname !== url) window.location.assign(url);
}

function announce(event) {
  unseen += 1;
  setBadge();
  if (!enabled()) return;
  const { title, body } = describe(event);
  // The tag lets the system replace rather than stack a second notice for the same run (two tabs).
  const notification = new Notification(title, { body, tag: `generation-${event.id}` });
  notification.onclick = () => {
    notification.close();
    open(event.url);
  };
}

subscribe((message) => {
  if (message.type !== "generation.status") return;
  const event = message.generation;
  const before = lastStatus.get(event.id);
  lastStatus.set(event.id, event.status);
  if (!TERMINAL.has(event.status) || before === undefined || TERMINAL.has(before)) return;
  if (event.created_by !== userId || !document.hidden) return;
  announce(event);
});

renderControl();
