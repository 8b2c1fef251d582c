// "Your runs" on the create page: one live card per run of this user, with what is happening now, the
// elapsed time, the ETA, results as they arrive, and a Dismiss button once the run has ended.
//
// Cards come from the live store (live.js): runs submitted from this page (``showRun``) and, after a
// (re)load, the user's runs in the server's snapshot that are still under way or ended recently and were
// not dismissed. Dismissing is saved on the server (POST /api/generations/<id>/dismiss/), so the run
// stays off this list on every page load and tab; it stays in "My generations" and the gallery.

import { api, ApiError } from "./api.js";
import { generationState, subscribe } from "./live.js";
import { decorateOutput, revealFlagged } from "./output-extras.js";
import { renderStatus } from "./status.js";

const RECENT_ENDED = 5; // ended runs shown after a reload, newest first
const runsCard = document.getElementById("runs-card");
const runs = document.getElementById("runs");
const cardTemplate = document.getElementById("status-card-template");
const userId = Number(runsCard?.dataset.userId);
const dismissUrl = runsCard?.dataset.dismissUrl || "";
const cards = new Map();
const dismissed = new Set();
if (runs) revealFlagged(runs);

function ended(event) {
  return event.status === "done" || event.status === "failed";
}

function card(id) {
  if (cards.has(id)) return cards.get(id);
  const node = cardTemplate.content.firstElementChild.cloneNode(true);
  node.dataset.generationId = String(id);
  node.querySelector("[data-id]").textContent = String(id);
  const button = node.querySelector("[data-dismiss]");
  button.querySelector("[data-dismiss-id]").textContent = ` generation #${id}`;
  button.addEventListener("click", () => dismiss(id, button));
  runs.prepend(node);
  runsCard.hidden = false;
  cards.set(id, node);
  return node;
}

function remove(id) {
  dismissed.add(id);
  const node = cards.get(id);
  if (!node) return;
  node.remove();
  cards.delete(id);
  runsCard.hidden = cards.size === 0;
}

async function dismiss(id, button) {
  button.disabled = true;
  const error = cards.get(id)?.querySelector("[data-dismiss-error]");
  try {
    await api(dismissUrl.replace("/0/", `/${id}/`), { method: "POST" });
    remove(id);
    document.getElementById("runs-heading")?.focus?.();
  } catch (failure) {
    button.disabled = false;
    if (error) error.textContent = failure instanceof ApiError ? failure.message : "Dismissing failed.";
  }
}

function updateCard(id, event) {
  const node = cards.get(id);
  if (!node || !event) return;
  if (event.url) node.querySelector("[data-link]").href = event.url;
  renderStatus(node, event);
  node.querySelector("[data-dismiss]").hidden = !ended(event);
}

function addOutput(id, output) {
  const node = cards.get(id);
  if (!node) return;
  const holder = node.querySelector("[data-outputs]");
  if (holder.querySelector(`[data-output-id="${output.id}"]`)) return;
  const figure = document.createElement("figure");
  figure.dataset.outputId = String(output.id);
  const video = document.createElement("video");
  Object.assign(video, { controls: true, muted: true, loop: true, playsInline: true, autoplay: true });
  video.setAttribute("playsinline", "");
  video.preload = "metadata";
  if (output.poster) video.poster = output.poster;
  video.src = output.url;
  video.setAttribute("aria-label", `Result of generation ${id}`);
  const caption = document.createElement("figcaption");
  const link = document.createElement("a");
  link.href = node.querySelector("[data-link]").getAttribute("href");
  link.textContent = "Open result";
  caption.append(link, document.createTextNode(output.nsfw ? " · NSFW flagged" : ""));
  // A flagged result plays blurred under a "Show anyway" cover, as on the result page.
  const frame = document.createElement("div");
  frame.className = "media-frame";
  frame.dataset.nsfwFrame = "";
  frame.append(video);
  figure.append(frame, caption);
  decorateOutput(figure, output);
  holder.append(figure);
}

function show(id) {
  const known = generationState(id);
  card(id);
  if (known && known.generation) updateCard(id, known.generation);
  for (const output of known ? known.outputs : []) addOutput(id, output);
  return cards.get(id);
}

/** A run just submitted from this page: its card, filled from whatever the live store knows. */
export function showRun(id, url) {
  const node = show(Number(id));
  if (url) node.querySelector("[data-link]").href = url;
  return node;
}

if (runsCard) {
  subscribe((message) => {
    if (message.type === "generation.status") {
      const event = message.generation;
      if (event.dismissed) remove(event.id);
      else updateCard(event.id, event);
    } else if (message.type === "generation.output") {
      addOutput(message.id, message.output);
    } else if (message.type === "snapshot") {
      // The snapshot is newest first: runs under way, then the few most recent ended ones.
      let endedShown = 0;
      const wanted = [];
      for (const id of message.ids) {
        const event = generationState(id)?.generation;
        if (!event || event.created_by !== userId || event.dismissed || dismissed.has(id)) continue;
        if (ended(event) && !cards.has(id) && endedShown++ >= RECENT_ENDED) continue;
        wanted.push(id);
      }
      for (const id of wanted.reverse()) show(id);
    }
  });
}
