// The create page: upload & preview, parameters, live quote, submit, live status cards.

import { generationState, ingest, subscribe } from "./live.js";
import { renderStatus } from "./status.js";
import { decorateOutput, revealFlagged } from "./output-extras.js";

const form = document.getElementById("create-form");
const urls = {
  upload: form.dataset.uploadUrl,
  quote: form.dataset.quoteUrl,
  create: form.dataset.createUrl,
};
const canSpend = form.dataset.canSpend === "true";
const userId = Number(form.dataset.userId);
const submitButton = document.getElementById("submit");
const priceNode = document.getElementById("price");
const breakdownNode = document.getElementById("breakdown");
const problemsList = document.getElementById("problems");
const submitNote = document.getElementById("submit-note");
// What the note says once everything is ready: the server's wording, kept in one place (the template).
const submitNoteText = submitNote.textContent;
const hidden = {
  image: document.getElementById("image_id"),
  video: document.getElementById("video_id"),
  parent: document.getElementById("parent_id"),
};
const LABELS = { image: "Character image", video: "Driving video" };
const QUOTE_DELAY_MS = 250;

const state = {
  assets: { image: null, video: null },
  uploading: { image: null, video: null },
  quote: null,
  quoteSeq: 0,
  quoteController: null,
  quoteTimer: null,
  submitting: false,
  quotedKey: null,
  sentLoraRows: [],
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = form.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// --- uploads -------------------------------------------------------------------------------------

function zone(kind) {
  return form.querySelector(`[data-dropzone="${kind}"]`);
}

function setZoneError(kind, message) {
  const node = zone(kind).querySelector("[data-error]");
  node.textContent = message || "";
  zone(kind).classList.toggle("has-error", Boolean(message));
  const input = zone(kind).querySelector("input[type=file]");
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function formatNumber(value, digits = 2) {
  if (value === null || value === undefined) return "—";
  return Number(value).toFixed(digits).replace(/\.?0+$/, "");
}

function metaRows(asset) {
  const rows = [["Resolution", `${asset.width} × ${asset.height}`]];
  if (asset.kind === "video") {
    rows.push(
      ["Duration", `${formatNumber(asset.duration)} s`],
      ["Frame rate", `${formatNumber(asset.fps)} fps`],
      ["Frames", String(asset.frames ?? "—")],
      ["Codec", asset.codec || "—"],
      ["Audio", asset.has_audio ? `Yes${asset.audio_codec ? ` (${asset.audio_codec})` : ""}` : "None"],
      ["Windows", `${asset.windows} × 77 frames`],
    );
  } else {
    rows.push(["Type", asset.content_type || "—"]);
  }
  return rows;
}

function renderWarnings(kind, warnings) {
  const list = zone(kind).querySelector("[data-warnings]");
  list.replaceChildren(
    ...(warnings || []).map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

function renderAsset(kind, asset) {
  const box = zone(kind);
  const preview = box.querySelector("[data-preview]");
  const meta = box.querySelector("[data-meta]");
  box.classList.toggle("has-asset", Boolean(asset));
  preview.replaceChildren();
  meta.replaceChildren();
  preview.hidden = meta.hidden = !asset;
  renderWarnings(kind, asset ? asset.warnings : []);
  // "Keep the driving video's audio" applies only to a clip that has some.
  if (kind === "video") document.getElementById("keep-audio-field").hidden = !(asset && asset.has_audio);
  const current = box.querySelector("[data-current]");
  current.hidden = !asset;
  current.textContent = asset ? `Using ${asset.name || "the uploaded file"}. Choose another file to replace it.` : "";
  if (!asset) return;
  if (kind === "image") {
    const img = document.createElement("img");
    img.src = asset.url;
    img.alt = `Preview of the uploaded character${asset.name ? ` (${asset.name})` : ""}`;
    preview.append(img);
  } else {
    const video = document.createElement("video");
    Object.assign(video, { controls: true, muted: true, loop: true, playsInline: true, autoplay: true });
    video.setAttribute("playsinline", "");
    video.setAttribute("muted", "");
    video.preload = "metadata";
    if (asset.poster) video.poster = asset.poster;
    video.src = asset.url;
    video.setAttribute("aria-label", "Preview of the uploaded clip");
    preview.append(video);
  }
  for (const [term, value] of metaRows(asset)) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (term === "Windows") {
      const pill = document.createElement("span");
      pill.className = "windows-pill";
      pill.textContent = value;
      dd.append(pill);
    } else {
      dd.textContent = value;
    }
    meta.append(dt, dd);
  }
}

function setAsset(kind, asset) {
  state.assets[kind] = asset;
  hidden[kind].value = asset ? String(asset.id) : "";
  renderAsset(kind, asset);
  scheduleQuote(0);
}

function showProgress(kind, percent) {
  const box = zone(kind).querySelector("[data-progress]");
  if (percent === null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.querySelector("progress").value = percent;
  box.querySelector("[data-progress-text]").textContent = `${Math.round(percent)}%`;
}

function megabytes(size) {
  return `${(size / 1048576).toFixed(1)} MB`;
}

function upload(kind, file) {
  if (!file) return;
  if (state.uploading[kind]) state.uploading[kind].abort();
  setZoneError(kind, "");
  setAsset(kind, null);
  // The server refuses it too (413, from the request's length), but only after the bytes were sent.
  const maxBytes = Number(zone(kind).querySelector("input[type=file]").dataset.maxBytes || 0);
  if (maxBytes && file.size > maxBytes) {
    const sizes = `the file is ${megabytes(file.size)}; the most allowed is ${megabytes(maxBytes)}`;
    setZoneError(kind, `${LABELS[kind]}: ${sizes}.`);
    return;
  }
  const data = new FormData();
  data.append("kind", kind);
  data.append("file", file, file.name);
  const xhr = new XMLHttpRequest();
  state.uploading[kind] = xhr;
  updateSubmit();
  // The kind in the query string lets the server apply that kind's size limit before reading the body.
  xhr.open("POST", `${urls.upload}?kind=${encodeURIComponent(kind)}`);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) showProgress(kind, (event.loaded / event.total) * 100);
  });
  showProgress(kind, 0);
  const finish = () => {
    if (state.uploading[kind] === xhr) state.uploading[kind] = null;
    showProgress(kind, null);
    updateSubmit();
  };
  xhr.addEventListener("load", () => {
    finish();
    const body = xhr.response || {};
    if (xhr.status >= 200 && xhr.status < 300) {
      setAsset(kind, body);
    } else if (xhr.status === 413) {
      setZoneError(kind, body.error || `${LABELS[kind]}: the file is too large to upload.`);
    } else {
      setZoneError(kind, body.error || `${LABELS[kind]}: the upload failed (HTTP ${xhr.status}).`);
    }
  });
  xhr.addEventListener("error", () => {
    finish();
    setZoneError(kind, `${LABELS[kind]}: the upload failed; check the connection and try again.`);
  });
  xhr.addEventListener("abort", finish);
  xhr.send(data);
}

for (const kind of ["image", "video"]) {
  const box = zone(kind);
  const input = box.querySelector("input[type=file]");
  input.addEventListener("change", () => upload(kind, input.files[0]));
  box.addEventListener("dragover", (event) => {
    event.preventDefault();
    box.classList.add("is-over");
  });
  box.addEventListener("dragleave", (event) => {
    if (!box.contains(event.relatedTarget)) box.classList.remove("is-over");
  });
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("is-over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) upload(kind, file);
  });
}

// --- parameters ----------------------------------------------------------------------------------

function isLoraField(element) {
  return /^lora-\d+-/.test(element.name || "");
}

function numberValue(element) {
  if (element.validity && element.validity.badInput) return { value: element.value || "not a number" };
  const raw = element.value.trim();
  if (raw === "") return null;
  const number = Number(raw);
  return { value: Number.isFinite(number) ? number : raw };
}

function collectChoices() {
  const choices = {};
  const seedRandom = form.querySelector("[data-key=seed_random]");
  for (const element of form.querySelectorAll("[data-key]")) {
    const key = element.dataset.key;
    if (element.disabled || isLoraField(element) || key === "seed_random") continue;
    if (key === "seed" && seedRandom && seedRandom.checked) continue;
    if (element.type === "radio") {
      if (element.checked) choices[key] = element.value;
    } else if (element.type === "checkbox") {
      if (element.checked) choices[key] = true;
    } else if (element.type === "number") {
      const parsed = numberValue(element);
      if (parsed) choices[key] = parsed.value;
    } else if (key === "size") {
      const value = element.value;
      if (/^\d+x\d+$/.test(value)) {
        const [width, height] = value.split("x").map(Number);
        choices.width = width;
        choices.height = height;
      } else if (value) {
        choices.resolution = value;
      }
    } else {
      const value = element.value.trim();
      if (value !== "") choices[key] = value;
    }
  }
  const loras = [];
  state.sentLoraRows = [];
  for (const row of form.querySelectorAll("[data-lora-row]")) {
    const field = (leaf) => row.querySelector(`[name$="-${leaf}"]`);
    const model = field("model").value.trim();
    const weight = numberValue(field("weight"));
    const transformer = field("transformer").value;
    if (!model && !weight && !transformer) continue;
    const item = { model };
    if (weight) item.weight = weight.value;
    if (transformer) item.transformer = transformer;
    loras.push(item);
    state.sentLoraRows.push(row);
  }
  if (loras.length) choices.lora = loras;
  return choices;
}

function syncDependentFields() {
  const mode = form.querySelector("[data-key=mode]:checked");
  const retarget = form.querySelector("[data-key=retargetPose]");
  if (retarget) {
    const replace = mode && mode.value === "replace";
    retarget.disabled = replace;
    retarget.closest(".field").classList.toggle("muted", replace);
  }
  const seedRandom = form.querySelector("[data-key=seed_random]");
  const seed = form.querySelector("[data-key=seed]");
  if (seedRandom && seed) {
    seed.disabled = seedRandom.checked;
    if (seedRandom.checked) seed.placeholder = "random";
    else seed.placeholder = "e.g. 42";
  }
}

// LoRA rows
const loraRows = document.getElementById("lora-rows");
const loraTemplate = document.getElementById("lora-row-template");
document.getElementById("lora-add")?.addEventListener("click", () => {
  const index = Number(loraRows.dataset.nextIndex || 0);
  loraRows.dataset.nextIndex = String(index + 1);
  const holder = document.createElement("div");
  holder.innerHTML = loraTemplate.innerHTML.replaceAll("lora-0-", `lora-${index}-`);
  const row = holder.firstElementChild;
  loraRows.append(row);
  row.querySelector("input, select")?.focus();
  scheduleQuote();
});
loraRows?.addEventListener("click", (event) => {
  const button = event.target.closest("[data-lora-remove]");
  if (!button) return;
  button.closest("[data-lora-row]").remove();
  document.getElementById("lora-add")?.focus();
  scheduleQuote();
});

// --- quote & problems ------------------------------------------------------------------------------

function errorSlotFor(key) {
  if (key === "image" || key === "video") return { slot: document.getElementById(`err-${key}`), input: null };
  if (key === "budget") return { slot: document.getElementById("err-budget"), input: null };
  const lora = key.match(/^lora\[(\d+)\](?:\.(\w+))?$/);
  if (lora) {
    const row = state.sentLoraRows[Number(lora[1])];
    const input = row && row.querySelector(`[name$="-${lora[2] || "model"}"]`);
    if (input) return { slot: document.getElementById(`err-${input.name}`), input };
  }
  let input = form.querySelector(`[data-path~="${CSS.escape(key)}"]`);
  if (!input) input = form.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!input && key.includes(".")) {
    const leaf = key.split(".").pop();
    input = form.querySelector(`[data-key="${CSS.escape(leaf)}"]`);
  }
  if (input) return { slot: document.getElementById(`err-${input.dataset.key}`), input };
  return { slot: document.getElementById("err-parameters"), input: null };
}

function clearProblems() {
  form.querySelectorAll(".field-error").forEach((node) => {
    if (!node.closest("[data-dropzone]")) node.textContent = "";
  });
  form.querySelectorAll("[aria-invalid=true]").forEach((node) => {
    if (node.type !== "file") node.removeAttribute("aria-invalid");
  });
  problemsList.replaceChildren();
}

function renderProblems(problems) {
  clearProblems();
  for (const [key, message] of Object.entries(problems || {})) {
    const { slot, input } = errorSlotFor(key);
    if (key === "image" || key === "video") {
      if (!state.uploading[key]) setZoneError(key, message);
    } else if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    }
    if (input) input.setAttribute("aria-invalid", "true");
    // The budget's message sits in the price panel already, right where this list is.
    if (key === "budget") continue;
    const item = document.createElement("li");
    const target = input || (key === "image" || key === "video" ? document.getElementById(`file-${key}`) : null);
    if (target && target.id) {
      const link = document.createElement("a");
      link.href = `#${target.id}`;
      link.textContent = message;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const details = target.closest("details");
        if (details) details.open = true;
        target.focus();
      });
      item.append(link);
    } else {
      item.textContent = message;
    }
    problemsList.append(item);
  }
}

function updateSubmit() {
  const uploading = Boolean(state.uploading.image || state.uploading.video);
  const ready = Boolean(state.assets.image && state.assets.video && state.quote && state.quote.valid);
  submitButton.disabled = !canSpend || uploading || state.submitting || !ready;
  if (!canSpend) return;
  if (state.submitting) submitNote.textContent = "Submitting…";
  else if (uploading) submitNote.textContent = "Waiting for the upload to finish…";
  else if (!state.assets.image || !state.assets.video) submitNote.textContent = "Upload a character image and a driving video.";
  else if (!state.quote) submitNote.textContent = "Checking the settings…";
  else if (!state.quote.valid) submitNote.textContent = "Fix the settings marked in red to continue.";
  else submitNote.textContent = submitNoteText;
}

function renderQuote(quote) {
  state.quote = quote;
  priceNode.classList.remove("is-stale");
  priceNode.classList.toggle("is-empty", !quote.valid);
  if (quote.valid) {
    priceNode.textContent = `$${quote.estimate}`;
    breakdownNode.textContent = `${quote.breakdown} · ${quote.tier} tier`;
  } else {
    priceNode.textContent = "—";
    breakdownNode.textContent = state.assets.video
      ? "No price until the settings are valid."
      : "Upload a driving video to see the price.";
  }
  renderBudget(quote.budget);
  const problems = { ...(quote.problems || {}) };
  if (!state.assets.video && problems.video && !hidden.video.value) {
    // Not an error yet: the video simply has not been chosen.
    delete problems.video;
  }
  renderProblems(problems);
  for (const kind of ["image", "video"]) {
    if (state.assets[kind] && quote.warnings) renderWarnings(kind, quote.warnings[kind]);
  }
  updateSubmit();
}

/** "Remaining after this run" beside the price, from the tightest budget that applies (if any). */
function renderBudget(budget) {
  const line = document.getElementById("budget-line");
  if (!line) return;
  line.hidden = !budget;
  if (!budget) return;
  line.classList.toggle("is-over", !budget.fits);
  if (budget.remaining_after === null) {
    line.textContent = `${budget.label}: $${budget.remaining} left; resets ${budget.resets_text}.`;
  } else if (budget.fits) {
    line.textContent = `Remaining after this run: $${budget.remaining_after} of ${budget.label.toLowerCase()} ($${budget.remaining} left now).`;
  } else {
    line.textContent = `Over budget: ${budget.label.toLowerCase()} has $${budget.remaining} left; this run would be refused. It resets ${budget.resets_text}.`;
  }
}

function quoteBody() {
  return {
    video_id: hidden.video.value ? Number(hidden.video.value) : null,
    image_id: hidden.image.value ? Number(hidden.image.value) : null,
    choices: collectChoices(),
  };
}

async function requestQuote() {
  const seq = ++state.quoteSeq;
  if (state.quoteController) state.quoteController.abort();
  const controller = new AbortController();
  state.quoteController = controller;
  priceNode.classList.add("is-stale");
  const body = quoteBody();
  state.quotedKey = JSON.stringify(body);
  try {
    const response = await fetch(urls.quote, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
      signal: controller.signal,
      credentials: "same-origin",
    });
    const data = await response.json();
    if (seq !== state.quoteSeq) return;
    renderQuote(data);
  } catch (error) {
    if (error.name === "AbortError" || seq !== state.quoteSeq) return;
    state.quote = null;
    priceNode.classList.remove("is-stale");
    breakdownNode.textContent = "Could not get a price; retrying when you change something.";
    updateSubmit();
  }
}

function scheduleQuote(delay = QUOTE_DELAY_MS) {
  // A "change" fired on blur (e.g. when the Generate button is pressed) repeats an "input" already
  // quoted: keep the current quote, or the button would be disabled under the pointer.
  if (state.quote && state.quotedKey === JSON.stringify(quoteBody())) return;
  clearTimeout(state.quoteTimer);
  state.quote = null;
  updateSubmit();
  state.quoteTimer = setTimeout(requestQuote, delay);
}

form.addEventListener("input", (event) => {
  if (event.target.type === "file") return;
  syncDependentFields();
  scheduleQuote();
});
form.addEventListener("change", (event) => {
  if (event.target.type === "file") return;
  syncDependentFields();
  scheduleQuote();
});

// --- submit & status cards ---------------------------------------------------------------------------

const runsCard = document.getElementById("runs-card");
const runs = document.getElementById("runs");
const cardTemplate = document.getElementById("status-card-template");
const cards = new Map();
revealFlagged(runs);

function card(id) {
  if (cards.has(id)) return cards.get(id);
  const node = cardTemplate.content.firstElementChild.cloneNode(true);
  node.dataset.generationId = String(id);
  node.querySelector("[data-id]").textContent = String(id);
  runs.prepend(node);
  runsCard.hidden = false;
  cards.set(id, node);
  return node;
}

function updateCard(id, event) {
  const node = cards.get(id);
  if (!node || !event) return;
  if (event.url) node.querySelector("[data-link]").href = event.url;
  renderStatus(node, event);
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

subscribe((message) => {
  if (message.type === "generation.status") {
    const event = message.generation;
    updateCard(event.id, event);
  } else if (message.type === "generation.output") {
    addOutput(message.id, message.output);
  } else if (message.type === "snapshot") {
    // Runs of this user still under way (e.g. after a reload) get a card too.
    for (const id of [...message.ids].reverse()) {
      const known = generationState(id);
      const event = known && known.generation;
      if (!event || cards.has(id) || event.created_by !== userId) continue;
      if (event.status === "done" || event.status === "failed") continue;
      card(id);
      updateCard(id, event);
      for (const output of known.outputs) addOutput(id, output);
    }
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (submitButton.disabled) return;
  state.submitting = true;
  updateSubmit();
  const body = {
    image_id: Number(hidden.image.value),
    video_id: Number(hidden.video.value),
    parent_id: hidden.parent.value ? Number(hidden.parent.value) : null,
    board_id: document.getElementById("board_id")?.value ? Number(document.getElementById("board_id").value) : null,
    choices: collectChoices(),
    keep_audio: document.getElementById("keep-audio-field").hidden ? null : document.getElementById("keep_audio").checked,
  };
  try {
    const response = await fetch(urls.create, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 201) {
      const node = card(data.id);
      node.querySelector("[data-link]").href = data.url;
      if (data.event) ingest(data.event);
      // The websocket may have announced this run before the HTTP answer arrived.
      const known = generationState(data.id);
      if (known && known.generation) updateCard(data.id, known.generation);
      else if (data.event) updateCard(data.id, data.event);
      for (const output of known ? known.outputs : []) addOutput(data.id, output);
      node.scrollIntoView({ behavior: "smooth", block: "nearest" });
      node.querySelector("[data-link]").focus({ preventScroll: true });
    } else if (response.status === 403) {
      renderProblems({ parameters: data.error || "You cannot submit generations." });
    } else {
      renderProblems(data.problems || { parameters: `Submitting failed (HTTP ${response.status}).` });
      // The refusal says what remains; the quote's budget line would only repeat it.
      if (data.problems && data.problems.budget) document.getElementById("budget-line").hidden = true;
    }
  } catch {
    renderProblems({ parameters: "Submitting failed: the server could not be reached. Try again." });
  } finally {
    state.submitting = false;
    updateSubmit();
  }
});

// --- start ---------------------------------------------------------------------------------------------

for (const kind of ["image", "video"]) {
  const node = document.getElementById(`${kind}-data`);
  const asset = node ? JSON.parse(node.textContent) : null;
  if (asset) {
    state.assets[kind] = asset;
    hidden[kind].value = String(asset.id);
    renderAsset(kind, asset);
  }
}
syncDependentFields();
scheduleQuote(0);
