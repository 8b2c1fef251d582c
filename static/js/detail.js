// The result page: live status, results appearing inline, synchronised playback with the driving video.

import { ingest, subscribe } from "./live.js";
import { localizeTimes, money, renderStatus } from "./status.js";
import { createSync } from "./sync.js";
import { decorateOutput, revealFlagged } from "./output-extras.js";

const root = document.getElementById("detail");
const id = Number(root.dataset.generationId);
const outputs = document.getElementById("outputs");
const template = document.getElementById("output-template");
const driving = document.getElementById("driving-video");
const toggle = document.getElementById("sync-toggle");
const sync = createSync(driving, { enabled: () => toggle.checked });

outputs.querySelectorAll("[data-output-video]").forEach((video) => sync.attach(video));
revealFlagged(outputs);
toggle.addEventListener("change", () => {
  if (!toggle.checked) driving.pause();
});

function addOutput(output) {
  if (outputs.querySelector(`[data-output-id="${output.id}"]`)) return;
  const node = template.content.firstElementChild.cloneNode(true);
  const count = outputs.querySelectorAll(".output").length + 1;
  node.dataset.outputId = String(output.id);
  const video = node.querySelector("video");
  video.src = output.url;
  if (output.poster) video.poster = output.poster;
  video.setAttribute("aria-label", `Result ${count} of generation #${id}`);
  const duration = Number(output.duration || 0).toFixed(2);
  node.querySelector("[data-caption]").textContent = `Result ${count} · ${output.width}×${output.height} · ${duration} s`;
  node.querySelector("[data-seed]").textContent = output.seed ?? "—";
  node.querySelector("[data-cost]").textContent = money(output.cost);
  const nsfw = node.querySelector("[data-nsfw]");
  if (output.nsfw) {
    nsfw.className = "badge badge--nsfw";
    nsfw.textContent = "Flagged";
  } else {
    const strong = document.createElement("strong");
    strong.textContent = "not flagged";
    nsfw.append(strong);
  }
  node.querySelector("[data-download]").href = `${output.url}?download=1`;
  decorateOutput(node, output);
  outputs.insertBefore(node, document.getElementById("waiting"));
  sync.attach(video);
  toggle.closest("label").hidden = false;
  const flag = document.getElementById("nsfw-flag");
  if (output.nsfw) flag.textContent = "Flagged";
  else if (flag.textContent.trim() === "—") flag.textContent = "Not flagged";
}

subscribe((message) => {
  if (message.type === "generation.status" && message.generation.id === id) {
    const event = message.generation;
    renderStatus(root, event);
    const hasOutputs = outputs.querySelector(".output") !== null;
    document.getElementById("waiting").hidden = hasOutputs || event.status === "failed";
  } else if (message.type === "generation.output" && message.id === id) {
    addOutput(message.output);
    document.getElementById("waiting").hidden = true;
    document.getElementById("failed-box")?.remove();
  }
});

// The server-rendered state is the baseline; live events only move it forward.
const initial = document.getElementById("generation-event");
if (initial) ingest(JSON.parse(initial.textContent));
localizeTimes(root);
