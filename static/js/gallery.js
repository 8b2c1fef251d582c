// The gallery: cards that scrub on hover (or drag on touch) and play inline on click, private stars,
// multi-selection (compare, boards, archive), filters that submit themselves, and live verdicts.

import { announce, api, pageData, shareButton } from "./api.js";
import { subscribe, watchOutputs } from "./live.js";
import { localizeTimes } from "./status.js";

const data = pageData("gallery-data");
const root = document.getElementById("gallery");
const STATE_LABELS = { approved: "Approved", rejected: "Rejected", mixed: "Mixed", unreviewed: "Unreviewed" };
const versions = new Map();

// --- filters ------------------------------------------------------------------------------------

const filters = document.getElementById("filters");
const filterForm = document.getElementById("filter-form");
if (filters && window.matchMedia("(min-width: 900px)").matches) filters.open = true;
filterForm?.addEventListener("change", (event) => {
  // Choices apply at once; typed text waits for Enter or "Apply".
  if (event.target.matches("select, input[type=checkbox], input[type=date]")) filterForm.requestSubmit();
});
filterForm?.addEventListener("submit", () => {
  // Blank fields stay out of the URL, so a link shows exactly the filters that are on.
  for (const element of filterForm.elements) {
    if (element.name && !element.value && element.type !== "checkbox") element.disabled = true;
  }
});

// --- inline playback and scrubbing -------------------------------------------------------------

function videoFor(media) {
  let video = media.querySelector("video");
  if (!video && media.dataset.video) {
    video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.preload = "metadata";
    video.src = media.dataset.video;
    video.setAttribute("aria-hidden", "true");
    video.addEventListener("timeupdate", () => progress(media, video));
    video.addEventListener("ended", () => media.classList.remove("is-playing"));
    media.prepend(video);
  }
  return video;
}

function progress(media, video) {
  const bar = media.querySelector("[data-progress]");
  const duration = video.duration || Number(media.dataset.duration) || 1;
  bar.style.width = `${Math.min(100, (video.currentTime / duration) * 100)}%`;
}

function scrubTo(media, clientX) {
  const video = videoFor(media);
  if (!video || media.classList.contains("is-playing")) return;
  const box = media.getBoundingClientRect();
  const fraction = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
  const duration = video.duration || Number(media.dataset.duration) || 0;
  if (duration) video.currentTime = fraction * duration;
  media.classList.add("is-scrubbing");
  progress(media, video);
}

for (const media of root.querySelectorAll("[data-media]")) {
  media.addEventListener("pointerenter", () => videoFor(media));
  media.addEventListener("pointermove", (event) => {
    // A mouse scrubs by hovering; a finger by dragging (pressure > 0 while it touches).
    if (event.pointerType === "mouse" || event.pressure > 0) scrubTo(media, event.clientX);
  });
  media.addEventListener("pointerleave", () => media.classList.remove("is-scrubbing"));
  media.addEventListener("click", () => {
    const video = videoFor(media);
    if (!video) return;
    if (video.paused) {
      for (const other of root.querySelectorAll("[data-media].is-playing video")) other.pause();
      root.querySelectorAll("[data-media].is-playing").forEach((node) => node.classList.remove("is-playing"));
      video.muted = false;
      video.play().catch(() => {
        video.muted = true;
        video.play().catch(() => {});
      });
      media.classList.add("is-playing");
      media.setAttribute("aria-label", media.getAttribute("aria-label").replace("Play", "Pause"));
    } else {
      video.pause();
      media.classList.remove("is-playing");
      media.setAttribute("aria-label", media.getAttribute("aria-label").replace("Pause", "Play"));
    }
  });
}

// --- stars --------------------------------------------------------------------------------------

function card(outputId) {
  return root.querySelector(`[data-card][data-output-id="${outputId}"]`);
}

function renderStar(outputId, starred) {
  const button = card(outputId)?.querySelector("[data-star]");
  if (!button) return;
  button.setAttribute("aria-pressed", String(starred));
  button.textContent = starred ? "★" : "☆";
}

for (const button of root.querySelectorAll("[data-star]")) {
  button.addEventListener("click", async () => {
    const id = button.closest("[data-card]").dataset.outputId;
    const starred = button.getAttribute("aria-pressed") !== "true";
    try {
      const answer = await api(`/api/outputs/${id}/star/`, { method: starred ? "PUT" : "DELETE" });
      renderStar(id, answer.starred);
    } catch (error) {
      announce(error.message, { error: true });
    }
  });
}

// --- selection ----------------------------------------------------------------------------------

const bar = document.getElementById("selection-bar");

// Outputs in the order they were ticked: the first becomes A on the compare page.
const ticked = [];

function selected(kind) {
  const ids = [...root.querySelectorAll(`[data-select][data-kind="${kind}"]:checked`)].map((input) => Number(input.value));
  if (kind !== "output") return ids;
  return ids.sort((x, y) => ticked.indexOf(x) - ticked.indexOf(y));
}

function renderSelection() {
  const outputs = selected("output");
  const runs = selected("run");
  const total = outputs.length + runs.length;
  bar.hidden = total === 0;
  bar.querySelector("[data-selection-count]").textContent = `${total} selected`;
  bar.querySelector("[data-compare]").disabled = !(outputs.length === 2 && runs.length === 0);
  for (const button of bar.querySelectorAll("[data-board-add], [data-board-remove]")) button.disabled = outputs.length === 0;
  root.querySelectorAll("[data-card]").forEach((tile) => {
    tile.classList.toggle("is-selected", Boolean(tile.querySelector("[data-select]:checked")));
  });
}

root.addEventListener("change", (event) => {
  if (!event.target.matches("[data-select]")) return;
  const id = Number(event.target.value);
  if (event.target.dataset.kind === "output") {
    if (ticked.includes(id)) ticked.splice(ticked.indexOf(id), 1);
    if (event.target.checked) ticked.push(id);
  }
  renderSelection();
});
bar.querySelector("[data-clear-selection]").addEventListener("click", () => {
  root.querySelectorAll("[data-select]:checked").forEach((input) => (input.checked = false));
  renderSelection();
});
bar.querySelector("[data-compare]").addEventListener("click", () => {
  const [a, b] = selected("output");
  window.location.href = `${data.api.compare}?a=${a}&b=${b}`;
});
bar.querySelector("[data-board-add]")?.addEventListener("click", async () => {
  const select = document.getElementById("selection-board");
  try {
    const answer = await api(`${data.api.boards}${select.value}/items/`, { method: "POST", body: { outputs: selected("output") } });
    announce(`Added ${answer.added} to “${select.selectedOptions[0].textContent}” (${answer.item_count} on it now).`);
  } catch (error) {
    announce(error.message, { error: true });
  }
});
bar.querySelector("[data-board-remove]")?.addEventListener("click", async () => {
  const board = root.dataset.boardId;
  try {
    for (const id of selected("output")) await api(`${data.api.boards}${board}/items/${id}/`, { method: "DELETE" });
    window.location.reload();
  } catch (error) {
    announce(error.message, { error: true });
  }
});
for (const button of bar.querySelectorAll("[data-archive-action]")) {
  button.addEventListener("click", async () => {
    const action = button.dataset.archiveAction;
    if (action === "purge" && button.dataset.confirming !== "1") {
      // A second click confirms: purging deletes the stored files for good.
      button.dataset.confirming = "1";
      button.textContent = "Click again to delete the files";
      return;
    }
    try {
      await api(data.api.archive, { method: "POST", body: { action, outputs: selected("output"), generations: selected("run") } });
      window.location.reload();
    } catch (error) {
      announce(error.message, { error: true });
    }
  });
}

// --- board share link ---------------------------------------------------------------------------

shareButton(root, {
  url: data.api.shares,
  body: () => ({ board: Number(root.dataset.boardId), expires_in: document.getElementById("board-share-expiry").value }),
});

// --- live ---------------------------------------------------------------------------------------

function renderState(outputId, event) {
  const tile = card(outputId);
  if (!tile || (event.version ?? 0) < (versions.get(outputId) ?? -1)) return;
  versions.set(outputId, event.version ?? 0);
  tile.dataset.state = event.state;
  const badge = tile.querySelector("[data-state-badge]");
  badge.className = `verdict-badge verdict-badge--${event.state}`;
  badge.textContent = STATE_LABELS[event.state] || event.state;
}

subscribe((message) => {
  if (message.type === "review.snapshot") {
    for (const [id, item] of Object.entries(message.outputs)) {
      renderState(Number(id), item);
      renderStar(id, Boolean(item.starred));
    }
  } else if (message.type === "review.verdict") {
    renderState(message.output, message);
  } else if (message.type === "review.star") {
    renderStar(message.output, message.starred);
  } else if (message.type === "review.archived" && message.archived !== data.archived_view) {
    // Someone archived (or restored) items this view does not show any more.
    for (const id of message.outputs) card(id)?.classList.add("is-gone");
    for (const id of message.generations) root.querySelector(`[data-card][data-generation-id="${id}"]`)?.classList.add("is-gone");
  }
});

watchOutputs(data.outputs);
renderSelection();
localizeTimes(root);
