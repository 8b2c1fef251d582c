// The result page's admin actions: "Check now" (ask Runware at once) and "Stop waiting" (end the run
// as failed here; Runware has no cancel, so the charge may still come and a late result is still kept).

import { api, ApiError } from "./api.js";
import { ingest, subscribe } from "./live.js";

const box = document.getElementById("run-actions");
const root = document.getElementById("detail");

const ENDED_NOTE = "Admins: “Check now” asks Runware at once; a result that still arrives is stored and charged.";
let acted = false;

function say(text, error = false) {
  acted = true;
  const note = document.getElementById("run-actions-note");
  note.textContent = text;
  note.classList.toggle("status-error", error);
}

/** The API's generation as the live store's event (the fields renderStatus reads). */
function asEvent(generation) {
  return {
    type: "generation.status",
    id: generation.id,
    status: generation.status,
    status_label: generation.status_label,
    results_received: generation.outputs.length,
    results_failed: generation.results_failed,
    partial: generation.status === "done" && generation.results_failed > 0,
    number_results: generation.number_results,
    charge_flag: generation.charge_flag,
    charged_no_result: generation.charged_no_result,
    error: generation.error ? generation.error.message : "",
    error_code: generation.error ? generation.error.code : "",
    estimated_cost: generation.estimated_cost,
    actual_cost: generation.actual_cost,
    reserved_cost: generation.reserved_cost,
    timestamps: generation.timestamps,
    url: root.dataset.url || window.location.pathname,
  };
}

async function act(button, url, busyText, doneText) {
  button.disabled = true;
  say(busyText);
  try {
    const generation = await api(url, { method: "POST" });
    // An authoritative answer from the database: it wins over what the page showed.
    ingest({ type: "snapshot", generations: [asEvent(generation)] });
    say(doneText(generation));
  } catch (error) {
    say(error instanceof ApiError ? error.message : "The request failed. Try again.", true);
  } finally {
    button.disabled = false;
  }
}

if (box) {
  const check = document.getElementById("check-now");
  const stop = document.getElementById("stop-waiting");
  check.addEventListener("click", () =>
    act(check, box.dataset.checkUrl, "Asking Runware…", (g) => `Runware was asked just now: the run is ${g.status_label.toLowerCase()}.`),
  );
  stop.addEventListener("click", () => {
    if (!window.confirm("Stop waiting for this run? It ends as failed here; Runware may still charge for it.")) return;
    act(stop, box.dataset.stopUrl, "Stopping…", () => "Stopped waiting. A result that still arrives is kept and charged.");
  });
  subscribe((message) => {
    if (message.type !== "generation.status" || message.generation.id !== Number(root.dataset.generationId)) return;
    const event = message.generation;
    const ended = event.status === "done" || event.status === "failed";
    stop.hidden = ended;
    if (ended && !acted) document.getElementById("run-actions-note").textContent = ENDED_NOTE;
    check.disabled = event.status === "queued";
    document.getElementById("stopped-note").hidden = event.error_code !== "stoppedWaiting";
  });
}
