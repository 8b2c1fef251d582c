// "My generations": status badges, result counts and costs update live; new runs appear on page 1.

import { ingest, subscribe } from "./live.js";
import { formatDateTime, localizeTimes, renderStatus } from "./status.js";

const list = document.getElementById("gen-list");
const template = document.getElementById("gen-row-template");
const userId = Number(list.dataset.userId);
const firstPage = list.dataset.page === "1";

function row(id) {
  return list.querySelector(`[data-generation-id="${id}"]`);
}

function newestId() {
  const first = list.querySelector("[data-generation-id]");
  return first ? Number(first.dataset.generationId) : 0;
}

function addRow(event) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.generationId = String(event.id);
  node.querySelector("[data-id]").textContent = String(event.id);
  node.querySelector("[data-link]").href = event.url;
  node.querySelector("[data-open]").href = event.url;
  const created = node.querySelector("[data-created]");
  created.dateTime = event.timestamps.created;
  created.textContent = formatDateTime(event.timestamps.created);
  list.prepend(node);
  list.hidden = false;
  document.getElementById("gen-empty")?.remove();
  return node;
}

subscribe((message) => {
  if (message.type === "generation.status") {
    const event = message.generation;
    let node = row(event.id);
    if (!node && firstPage && event.created_by === userId && event.id > newestId()) node = addRow(event);
    if (node) renderStatus(node, event);
  } else if (message.type === "generation.output") {
    const node = row(message.id);
    const thumb = node && node.querySelector("[data-thumb]");
    if (!thumb || !message.output.poster) return;
    const current = thumb.querySelector("img");
    // The first result's poster replaces the driving video's.
    if (current && current.dataset.output) return;
    const img = document.createElement("img");
    img.src = message.output.poster;
    img.alt = "";
    img.dataset.output = "1";
    thumb.replaceChildren(img);
  }
});

// The server-rendered rows are the baseline (with each run's ETA); live events only move them forward.
for (const event of JSON.parse(document.getElementById("gen-events")?.textContent || "[]")) ingest(event);
localizeTimes(list);
