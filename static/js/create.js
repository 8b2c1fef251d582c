// The create page: upload & preview, parameters, live quote, submit, live status cards, team presets
// and a draft that survives a reload. Every call goes to the REST API (/api/), whose errors have one
// shape: {"errors": {"<field or parameters.path>": ["message"]}}.

import { generationState, ingest } from "./live.js";
import { showRun } from "./runs.js";

const form = document.getElementById("create-form");
const urls = {
  upload: form.dataset.uploadUrl,
  quote: form.dataset.quoteUrl,
  create: form.dataset.createUrl,
  presets: form.dataset.presetsUrl,
  generationPage: form.dataset.generationPageUrl, // ".../0/": the id goes in place of the 0
};
const canSpend = form.dataset.canSpend === "true";
const userId = Number(form.dataset.userId);
const teamId = form.dataset.teamId;
const DRAFT_KEY = `animate:create-draft:team-${teamId}`;
// A re-run starts from the server's copy of the earlier run, not from a draft.
const startsFromRun = Boolean(document.getElementById("parent_id").value);
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
  // The Idempotency-Key of this draft and the request it was made for: a new one after a successful
  // submit or once the request changes, so a double click or a retry is the same run.
  idempotency: null,
  sizeTouched: false,
  preset: null, // {id, name, key}: the preset applied, while the settings are still its own
  presets: [],
  restoring: false,
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
  saveDraft();
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

/** The API names the field ("file"); the page names it by its label. */
function labelled(kind, message) {
  return message.toLowerCase().startsWith(LABELS[kind].toLowerCase()) ? message : `${LABELS[kind]}: ${message}`;
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
      return;
    }
    const message = Object.values(body.errors || {}).flat().join(" ");
    if (message) setZoneError(kind, labelled(kind, message));
    else if (xhr.status === 413) setZoneError(kind, `${LABELS[kind]}: the file is too large to upload.`);
    else setZoneError(kind, `${LABELS[kind]}: the upload failed (HTTP ${xhr.status}).`);
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
  saveDraft();
  scheduleQuote();
});
loraRows?.addEventListener("click", (event) => {
  const button = event.target.closest("[data-lora-remove]");
  if (!button) return;
  button.closest("[data-lora-row]").remove();
  document.getElementById("lora-add")?.focus();
  samePreset();
  saveDraft();
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

/** API errors ({"parameters.fps": ["…"]}) as the page's problems ({fps: "…"}). */
function pageProblems(errors) {
  const problems = {};
  for (const [key, messages] of Object.entries(errors || {})) {
    const name = key.startsWith("parameters.") ? key.slice("parameters.".length) : key;
    problems[name] = Array.isArray(messages) ? messages.join(" ") : String(messages);
  }
  return problems;
}

const duplicateBox = document.getElementById("duplicate");
const confirmDuplicate = document.getElementById("confirm-duplicate");

/** "You already ran this": a link to the earlier run and its cost; submitting needs the tick. */
function renderDuplicate(earlier) {
  state.duplicate = earlier || null;
  duplicateBox.hidden = !earlier;
  if (!earlier) {
    confirmDuplicate.checked = false;
    return;
  }
  const link = duplicateBox.querySelector("[data-duplicate-link]");
  link.href = earlier.url;
  link.textContent = `generation #${earlier.id}`;
  duplicateBox.querySelector("[data-duplicate-cost]").textContent = `$${earlier.cost}`;
}

function updateSubmit() {
  const uploading = Boolean(state.uploading.image || state.uploading.video);
  const ready = Boolean(state.assets.image && state.assets.video && state.quote && state.quote.valid);
  const unconfirmed = Boolean(state.duplicate) && !confirmDuplicate.checked;
  submitButton.disabled = !canSpend || uploading || state.submitting || !ready || unconfirmed;
  if (!canSpend) return;
  if (state.submitting) submitNote.textContent = "Submitting…";
  else if (ready && unconfirmed) submitNote.textContent = "The same job ran before: tick the box to pay for it again.";
  else if (uploading) submitNote.textContent = "Waiting for the upload to finish…";
  else if (!state.assets.image || !state.assets.video) submitNote.textContent = "Upload a character image and a driving video.";
  else if (!state.quote) submitNote.textContent = "Checking the settings…";
  else if (!state.quote.valid) submitNote.textContent = "Fix the settings marked in red to continue.";
  else submitNote.textContent = submitNoteText;
}

const priceNote = document.getElementById("price-note");
const sizeNote = document.getElementById("size-note");
const etaLine = document.getElementById("eta-line");
const sizeSelect = form.querySelector("[data-key=size]");

function renderPrice(quote) {
  priceNode.classList.remove("is-stale");
  const priced = quote.valid && quote.estimate !== null;
  priceNode.classList.toggle("is-empty", !priced);
  priceNote.hidden = !(priced && !quote.exact);
  if (!priced) {
    priceNode.textContent = "—";
    breakdownNode.textContent = state.assets.video
      ? "No price until the settings are valid."
      : "Upload a driving video to see the price.";
    return;
  }
  if (quote.exact) {
    priceNode.textContent = `$${quote.estimate}`;
    breakdownNode.textContent = `${quote.breakdown} · ${quote.tier} tier`;
  } else {
    // Runware picks the size: only the range is known, and the page says why.
    priceNode.textContent = `$${quote.estimate_min} – $${quote.estimate_max}`;
    breakdownNode.textContent = quote.breakdown;
    priceNote.textContent = quote.price_note;
  }
}

/** The size the inputs suggest: applied until the user picks a size, and always said in words. */
function applySuggestedSize(suggestion) {
  sizeNote.hidden = !suggestion;
  if (!suggestion) return false;
  const chosen = sizeSelect.value === suggestion.value;
  sizeNote.textContent = chosen
    ? `${suggestion.text}.`
    : `Suggested: ${suggestion.text}.`;
  if (state.sizeTouched || chosen || startsFromRun) return false;
  sizeSelect.value = suggestion.value;
  sizeNote.textContent = `${suggestion.text}.`;
  return true;
}

function duration(seconds) {
  const total = Math.max(1, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  if (!minutes) return `${rest} s`;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/** "Usually 1 min 40 s, up to 3 min — from 12 of your team's runs" (or an estimate before there are enough). */
function etaText(eta) {
  if (!eta || !eta.p50_seconds) return "";
  const range = `Usually ${duration(eta.p50_seconds)}, up to ${duration(eta.p90_seconds || eta.p50_seconds)}`;
  if (eta.basis === "team") return `${range} — from ${eta.runs} of your team's run${eta.runs === 1 ? "" : "s"}.`;
  return `${range} — an estimate until your team has more runs.`;
}

function renderEta(eta) {
  const text = etaText(eta);
  etaLine.hidden = !text;
  etaLine.textContent = text;
}

function renderQuote(quote) {
  state.quote = quote;
  if (applySuggestedSize(quote.suggested_size)) {
    // The default size changed the request: price that one instead.
    state.quote = null;
    saveDraft();
    requestQuote();
    return;
  }
  renderPrice(quote);
  renderEta(quote.eta);
  renderDuplicate(quote.valid ? quote.duplicate : null);
  renderBudget(quote.budget);
  const problems = pageProblems(quote.problems);
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
    video: hidden.video.value ? Number(hidden.video.value) : null,
    image: hidden.image.value ? Number(hidden.image.value) : null,
    parameters: collectChoices(),
    keep_audio: keepAudio(),
  };
}

/** The "Keep the driving clip's audio" box; null when the driving video has no sound to keep. */
function keepAudio() {
  return document.getElementById("keep-audio-field").hidden ? null : document.getElementById("keep_audio").checked;
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
    if (!response.ok) {
      // A malformed request (e.g. a number too large to be one): the same error shape as a submit.
      renderQuote({ valid: false, problems: data.errors || {}, estimate: null, warnings: {} });
      return;
    }
    renderQuote(data);
  } catch (error) {
    if (error.name === "AbortError" || seq !== state.quoteSeq) return;
    state.quote = null;
    priceNode.classList.remove("is-stale");
    breakdownNode.textContent = "Could not get a price; retrying when you change something.";
    updateSubmit();
  }
}

function scheduleQuote(delay = QUOTE_DELAY_MS, { force = false } = {}) {
  // A "change" fired on blur (e.g. when the Generate button is pressed) repeats an "input" already
  // quoted: keep the current quote, or the button would be disabled under the pointer.
  if (!force && state.quote && state.quotedKey === JSON.stringify(quoteBody())) return;
  clearTimeout(state.quoteTimer);
  state.quote = null;
  updateSubmit();
  state.quoteTimer = setTimeout(requestQuote, delay);
}

function settingsChanged(event) {
  const target = event.target;
  if (target.type === "file" || target.closest("[data-presets]") || target === confirmDuplicate) return;
  // The page sets the suggested size without an event: any event on the size is the user's choice.
  if (target === sizeSelect) state.sizeTouched = true;
  syncDependentFields();
  samePreset();
  saveDraft();
  scheduleQuote();
}
form.addEventListener("input", settingsChanged);
form.addEventListener("change", settingsChanged);
confirmDuplicate.addEventListener("change", updateSubmit);

// --- submit & status cards ---------------------------------------------------------------------------

// The cards themselves ("Your runs": live state, ETA, dismiss) are runs.js's.

function randomKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a plain-http host still has getRandomValues.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The draft's key for this request: kept while the request is the same, new once it changes. */
function idempotencyKey(body) {
  const request = JSON.stringify({ ...body, confirm_duplicate: undefined });
  if (!state.idempotency || state.idempotency.request !== request) {
    state.idempotency = { key: randomKey(), request };
    saveDraft();
  }
  return state.idempotency.key;
}

/** The API's generation as the live store's status event. */
function statusEvent(generation) {
  return {
    type: "generation.status",
    id: generation.id,
    status: generation.status,
    status_label: generation.status_label,
    results_received: (generation.outputs || []).length,
    charged_no_result: generation.charged_no_result,
    charge_flag: generation.charge_flag,
    number_results: generation.number_results,
    created_by: userId,
    error: generation.error ? generation.error.message : "",
    estimated_cost: generation.estimated_cost,
    actual_cost: generation.actual_cost,
    reserved_cost: generation.reserved_cost,
    timestamps: generation.timestamps,
    url: urls.generationPage.replace(/0\/$/, `${generation.id}/`),
  };
}

function showSubmitted(generation) {
  const event = statusEvent(generation);
  // The websocket may have announced this run before the HTTP answer arrived, with more (its ETA):
  // the answer only fills in for an event still to come.
  if (!generationState(event.id)?.generation) ingest(event);
  const node = showRun(event.id, event.url);
  node.scrollIntoView({ behavior: "smooth", block: "nearest" });
  node.querySelector("[data-link]").focus({ preventScroll: true });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (submitButton.disabled || state.submitting) return;
  state.submitting = true;
  updateSubmit();
  const boardValue = document.getElementById("board_id")?.value;
  const body = {
    image: Number(hidden.image.value),
    video: Number(hidden.video.value),
    parent: hidden.parent.value ? Number(hidden.parent.value) : null,
    board: boardValue ? Number(boardValue) : null,
    preset: state.preset ? state.preset.id : null,
    parameters: collectChoices(),
    confirm_duplicate: Boolean(state.duplicate) && confirmDuplicate.checked,
    keep_audio: keepAudio(),
  };
  try {
    const response = await fetch(urls.create, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
        "Idempotency-Key": idempotencyKey(body),
      },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 201 || response.status === 200) {
      // Done with this key: the next Generate is a new run (and, unchanged, an identical one).
      state.idempotency = null;
      saveDraft();
      showSubmitted(data);
      scheduleQuote(0, { force: true });
    } else if (response.status === 409 && data.earlier) {
      renderDuplicate(data.earlier);
    } else {
      const problems = pageProblems(data.errors);
      if (problems.detail) {
        problems.parameters = problems.detail;
        delete problems.detail;
      }
      if (problems["Idempotency-Key"]) {
        // The key was spent on another request: the next try gets a fresh one.
        state.idempotency = null;
        problems.parameters = problems["Idempotency-Key"];
        delete problems["Idempotency-Key"];
      }
      renderProblems(Object.keys(problems).length ? problems : { parameters: `Submitting failed (HTTP ${response.status}).` });
      // The refusal says what remains; the quote's budget line would only repeat it.
      if (problems.budget) document.getElementById("budget-line").hidden = true;
    }
  } catch {
    renderProblems({ parameters: "Submitting failed: the server could not be reached. Try again." });
  } finally {
    state.submitting = false;
    updateSubmit();
  }
});

// --- draft: survives a reload -------------------------------------------------------------------------

/** Every setting control by name, with its value (checkboxes and radios by their state). */
function formValues() {
  const values = {};
  for (const element of form.elements) {
    if (!element.name || element.type === "file" || element.type === "hidden" || element.closest("[data-presets]")) continue;
    if (element.name === "csrfmiddlewaretoken") continue;
    if (element.type === "checkbox") values[element.name] = element.checked;
    else if (element.type === "radio") {
      if (element.checked) values[element.name] = element.value;
    } else values[element.name] = element.value;
  }
  return values;
}

function saveDraft() {
  if (state.restoring) return;
  const draft = {
    assets: state.assets,
    values: formValues(),
    loraRows: form.querySelectorAll("[data-lora-row]").length,
    sizeTouched: state.sizeTouched,
    preset: state.preset,
    idempotency: state.idempotency,
  };
  try {
    localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
  } catch {
    // Storage full or disabled: the page works, only a reload loses the draft.
  }
}

function loadDraft() {
  try {
    return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
  } catch {
    return null;
  }
}

function setLoraRows(count) {
  for (const row of form.querySelectorAll("[data-lora-row]")) row.remove();
  loraRows.dataset.nextIndex = "0";
  for (let index = 0; index < count; index += 1) {
    loraRows.dataset.nextIndex = String(index + 1);
    const holder = document.createElement("div");
    holder.innerHTML = loraTemplate.innerHTML.replaceAll("lora-0-", `lora-${index}-`);
    loraRows.append(holder.firstElementChild);
  }
}

function applyValues(values) {
  for (const element of form.elements) {
    if (!element.name || !(element.name in values) || element.type === "file" || element.type === "hidden") continue;
    if (element.closest("[data-presets]")) continue;
    const value = values[element.name];
    if (element.type === "checkbox") element.checked = Boolean(value);
    else if (element.type === "radio") element.checked = element.value === value;
    else element.value = value;
  }
}

function restoreDraft() {
  const draft = loadDraft();
  if (!draft) return false;
  state.restoring = true;
  if (loraRows) setLoraRows(Number(draft.loraRows) || 0);
  applyValues(draft.values || {});
  state.sizeTouched = Boolean(draft.sizeTouched);
  state.preset = draft.preset || null;
  state.idempotency = draft.idempotency || null;
  for (const kind of ["image", "video"]) {
    const asset = draft.assets && draft.assets[kind];
    if (asset) {
      state.assets[kind] = asset;
      hidden[kind].value = String(asset.id);
      renderAsset(kind, asset);
    }
  }
  state.restoring = false;
  return true;
}

document.getElementById("draft-clear").addEventListener("click", () => {
  localStorage.removeItem(DRAFT_KEY);
  // The page as the server renders it is the empty draft.
  window.location.assign(window.location.pathname);
});

// --- team presets ---------------------------------------------------------------------------------------

const presetBox = form.querySelector("[data-presets]");
const presetSelect = document.getElementById("preset-select");
const presetFacts = document.getElementById("preset-facts");
const presetName = document.getElementById("preset-name");
const presetError = document.getElementById("err-preset-name");
const presetStatus = document.getElementById("preset-status");

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]));
  }
  return value;
}

function choicesKey(choices) {
  return JSON.stringify(canonical(choices));
}

/** A run is recorded as made with the preset only while its settings are still the preset's. */
function samePreset() {
  if (!state.preset) return;
  if (choicesKey(collectChoices()) !== state.preset.key) {
    state.preset = null;
    presetStatus.textContent = "Settings changed since the preset was applied: this run is not counted for it.";
  }
}

function presetSummary(preset) {
  const parts = [];
  parts.push(preset.average_cost === null ? "no runs yet" : `average $${preset.average_cost} over ${preset.runs} run${preset.runs === 1 ? "" : "s"}`);
  if (preset.approval_rate !== null) parts.push(`${Math.round(preset.approval_rate * 100)}% approved of ${preset.reviewed} reviewed`);
  return parts.join(" · ");
}

function renderPresets() {
  const current = presetSelect.value;
  presetSelect.replaceChildren(new Option(state.presets.length ? "Choose a preset…" : "No presets yet", ""));
  for (const preset of state.presets) presetSelect.append(new Option(preset.name, String(preset.id)));
  presetSelect.value = state.presets.some((preset) => String(preset.id) === current) ? current : "";
  renderPresetFacts();
}

function renderPresetFacts() {
  const preset = state.presets.find((item) => String(item.id) === presetSelect.value);
  presetFacts.textContent = preset ? presetSummary(preset) : "";
  document.getElementById("preset-apply").disabled = !preset;
}

async function loadPresets() {
  try {
    const response = await fetch(urls.presets, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    state.presets = await response.json();
    renderPresets();
  } catch {
    presetFacts.textContent = "Presets could not be loaded.";
  }
}

/** Fill every setting from the preset's choices (the inputs stay as they are). */
function applyChoices(choices) {
  state.restoring = true;
  const defaults = {};
  for (const element of form.elements) {
    if (!element.name || element.type === "file" || element.type === "hidden" || element.closest("[data-presets]")) continue;
    if (element.name === "board_id") continue; // where results go is not a setting
    if (element.type === "checkbox") defaults[element.name] = element.defaultChecked;
    else if (element.type === "radio") {
      if (element.defaultChecked) defaults[element.name] = element.value;
    } else defaults[element.name] = "";
  }
  applyValues(defaults);
  const loras = Array.isArray(choices.lora) ? choices.lora : [];
  if (loraRows) setLoraRows(loras.length);
  loras.forEach((row, index) => {
    for (const [leaf, value] of Object.entries(row)) {
      const input = form.querySelector(`[name="lora-${index}-${leaf}"]`);
      if (input) input.value = String(value);
    }
  });
  const seedRandom = form.querySelector("[data-key=seed_random]");
  if (seedRandom) seedRandom.checked = choices.seed === undefined;
  for (const [key, value] of Object.entries(choices)) {
    if (key === "lora" || key === "width" || key === "height" || key === "resolution") continue;
    const inputs = form.querySelectorAll(`[data-key="${CSS.escape(key)}"]`);
    for (const input of inputs) {
      if (input.type === "radio") input.checked = input.value === String(value);
      else if (input.type === "checkbox") input.checked = Boolean(value);
      else input.value = String(value);
    }
  }
  if (choices.width !== undefined && choices.height !== undefined) sizeSelect.value = `${choices.width}x${choices.height}`;
  else sizeSelect.value = choices.resolution || "";
  state.sizeTouched = true;
  state.restoring = false;
  syncDependentFields();
}

document.getElementById("preset-apply").addEventListener("click", () => {
  const preset = state.presets.find((item) => String(item.id) === presetSelect.value);
  if (!preset) return;
  applyChoices(preset.parameters);
  state.preset = { id: preset.id, name: preset.name, key: choicesKey(collectChoices()) };
  presetStatus.textContent = `Applied “${preset.name}”; the inputs are unchanged.`;
  saveDraft();
  scheduleQuote(0);
});

presetSelect.addEventListener("change", renderPresetFacts);

document.getElementById("preset-save").addEventListener("click", async () => {
  presetError.textContent = "";
  presetName.removeAttribute("aria-invalid");
  const response = await fetch(urls.presets, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ name: presetName.value, parameters: collectChoices() }),
    credentials: "same-origin",
  }).catch(() => null);
  const data = response ? await response.json().catch(() => ({})) : {};
  if (!response || !response.ok) {
    const problems = pageProblems(data.errors || { name: ["Saving failed: the server could not be reached."] });
    presetError.textContent = Object.values(problems).join(" ");
    presetName.setAttribute("aria-invalid", "true");
    presetName.focus();
    return;
  }
  state.presets = [...state.presets, data].sort((a, b) => a.name.localeCompare(b.name));
  renderPresets();
  presetSelect.value = String(data.id);
  renderPresetFacts();
  state.preset = { id: data.id, name: data.name, key: choicesKey(collectChoices()) };
  presetName.value = "";
  presetStatus.textContent = `Saved “${data.name}” for the team.`;
  saveDraft();
});

presetName.addEventListener("keydown", (event) => {
  // Enter saves the preset instead of submitting the generation.
  if (event.key === "Enter") {
    event.preventDefault();
    document.getElementById("preset-save").click();
  }
});

// --- start ---------------------------------------------------------------------------------------------

if (startsFromRun || !restoreDraft()) {
  for (const kind of ["image", "video"]) {
    const node = document.getElementById(`${kind}-data`);
    const asset = node ? JSON.parse(node.textContent) : null;
    if (asset) {
      state.assets[kind] = asset;
      hidden[kind].value = String(asset.id);
      renderAsset(kind, asset);
    }
  }
}
if (!canSpend) presetBox.querySelector("[data-preset-save]").hidden = true;
syncDependentFields();
loadPresets();
scheduleQuote(0);
