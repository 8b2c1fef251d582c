// The review player: one transport over the result and the driving video, verdicts, time-pinned
// comments, the private star, boards, share links and archive — all kept live over the websocket.

import { announce, api, pageData, shareButton } from "./api.js";
import { subscribe, watchOutputs } from "./live.js";
import { localizeTimes } from "./status.js";
import { createTransport, formatClock, typingInto } from "./transport.js";

const data = pageData("review-data");
const root = document.getElementById("review");
const lead = document.getElementById("result-video");
const driving = document.getElementById("driving-video");
const transport = lead
  ? createTransport(document.querySelector("[data-transport]"), {
      lead,
      followers: driving ? [driving] : [],
      fps: data.fps,
    })
  : null;

// --- NSFW ---------------------------------------------------------------------------------------

root.querySelector("[data-reveal]")?.addEventListener("click", () => {
  root.querySelector("[data-nsfw-frame]").classList.remove("is-nsfw");
  root.querySelector("[data-nsfw-cover]").remove();
  lead?.focus();
});

// --- verdicts -----------------------------------------------------------------------------------

const STATE_LABELS = { approved: "Approved", rejected: "Rejected", mixed: "Mixed", unreviewed: "Unreviewed" };
let verdictVersion = -1;
const approveButton = root.querySelector("[data-approve]");
const rejectButton = root.querySelector("[data-reject]");
const rejectForm = document.getElementById("reject-form");
const rating = document.getElementById("rating");

function addToHistory(event) {
  // The newest verdict is the one whose id is the event's version; older ones are already listed.
  const verdict = event.verdicts.find((item) => item.id === event.version);
  const list = root.querySelector(".history-list");
  if (!verdict || !list || list.querySelector(`[data-verdict-id="${verdict.id}"]`)) return;
  list.querySelector(".muted:only-child")?.remove();
  const item = document.createElement("li");
  item.dataset.verdictId = String(verdict.id);
  const who = document.createElement("strong");
  who.textContent = verdict.reviewer_name;
  const reasons = verdict.reason_labels.length ? ` (${verdict.reason_labels.join(", ")})` : "";
  item.append(who, ` ${verdict.decision}${reasons}${verdict.rating ? `, ${verdict.rating}/5` : ""} · just now`);
  list.prepend(item);
  const count = root.querySelector("[data-history-count]");
  if (count) count.textContent = `(${list.children.length})`;
}

function renderVerdicts(event) {
  if ((event.version ?? 0) < verdictVersion) return;
  if (verdictVersion >= 0 && (event.version ?? 0) > verdictVersion) addToHistory(event);
  verdictVersion = event.version ?? 0;
  const badge = root.querySelector("[data-state-badge]");
  badge.className = `verdict-badge verdict-badge--${event.state}`;
  badge.textContent = STATE_LABELS[event.state] || event.state;
  const list = root.querySelector("[data-verdicts]");
  const template = document.getElementById("verdict-template");
  list.replaceChildren();
  for (const verdict of event.verdicts) {
    const row = template.content.firstElementChild.cloneNode(true);
    const decision = row.querySelector("[data-decision]");
    decision.classList.add(`verdict-badge--${verdict.decision}`);
    decision.textContent = STATE_LABELS[verdict.decision];
    row.querySelector("[data-who]").textContent = verdict.reviewer_name;
    const bits = [verdict.reason_labels.join(", ")];
    if (verdict.rating) bits.push(`${verdict.rating}/5`);
    if (verdict.note) bits.push(`“${verdict.note}”`);
    row.querySelector("[data-detail]").textContent = bits.filter(Boolean).join(" · ");
    list.append(row);
  }
  if (!event.verdicts.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No verdict yet.";
    list.append(empty);
  }
  const mine = event.verdicts.find((verdict) => verdict.reviewer === data.me);
  approveButton.setAttribute("aria-pressed", String(mine?.decision === "approved"));
  rejectButton.setAttribute("aria-pressed", String(mine?.decision === "rejected"));
}

function showErrors(errors) {
  const slots = { reasons: "err-reasons", note: "err-note", rating: "err-verdict", detail: "err-verdict" };
  for (const id of new Set(Object.values(slots))) document.getElementById(id).textContent = "";
  for (const [field, messages] of Object.entries(errors)) {
    const slot = document.getElementById(slots[field] || "err-verdict");
    slot.textContent = [slot.textContent, ...messages].filter(Boolean).join(" ");
  }
}

async function sendVerdict(body) {
  const value = rating.value ? Number(rating.value) : null;
  try {
    await api(data.api.verdicts, { method: "POST", body: { ...body, rating: value } });
    showErrors({});
    announce(body.decision === "approved" ? "Approved." : "Rejected.");
    return true;
  } catch (error) {
    showErrors(error.errors || { detail: [error.message] });
    return false;
  }
}

function openReject() {
  rejectForm.hidden = false;
  rejectButton.setAttribute("aria-expanded", "true");
  rejectForm.querySelector("input[type=checkbox]").focus();
}

approveButton.addEventListener("click", () => {
  rejectForm.hidden = true;
  rejectButton.setAttribute("aria-expanded", "false");
  sendVerdict({ decision: "approved" });
});
rejectButton.addEventListener("click", () => (rejectForm.hidden ? openReject() : null));
root.querySelector("[data-reject-cancel]").addEventListener("click", () => {
  rejectForm.hidden = true;
  rejectButton.setAttribute("aria-expanded", "false");
  rejectButton.focus();
});
rejectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reasons = [...rejectForm.querySelectorAll("input[name=reasons]:checked")].map((input) => input.value);
  const note = document.getElementById("reject-note").value;
  if (await sendVerdict({ decision: "rejected", reasons, note })) {
    rejectForm.hidden = true;
    rejectButton.setAttribute("aria-expanded", "false");
  }
});

// --- comments -----------------------------------------------------------------------------------

const comments = new Map();
const commentList = root.querySelector("[data-comments]");
const commentForm = document.getElementById("comment-form");
const commentBody = document.getElementById("comment-body");
const commentTime = root.querySelector("[data-comment-time]");
let pinnedAt = null;

function seekAll(seconds) {
  if (!transport) return;
  lead.pause();
  transport.seek(seconds);
}

function renderComments() {
  const template = document.getElementById("comment-template");
  const sorted = [...comments.values()].sort((a, b) => a.at_seconds - b.at_seconds || a.id - b.id);
  commentList.replaceChildren();
  for (const comment of sorted) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.commentId = String(comment.id);
    const seek = item.querySelector("[data-seek]");
    seek.textContent = formatClock(comment.at_seconds);
    seek.setAttribute("aria-label", `Seek to ${formatClock(comment.at_seconds)}`);
    seek.addEventListener("click", () => seekAll(comment.at_seconds));
    item.querySelector("[data-author]").textContent = comment.author_name;
    item.querySelector("[data-body]").textContent = comment.body;
    item.querySelector("[data-edited]").hidden = !comment.edited_at;
    if (comment.author === data.me) {
      item.querySelector("[data-own]").hidden = false;
      item.querySelector("[data-edit]").addEventListener("click", () => editComment(item, comment));
      item.querySelector("[data-delete]").addEventListener("click", () => deleteComment(comment));
    }
    commentList.append(item);
  }
  root.querySelector("[data-comment-count]").textContent = `(${comments.size})`;
  root.querySelector("[data-no-comments]").hidden = comments.size > 0;
  transport?.setMarkers(sorted.map((comment) => ({ id: comment.id, time: comment.at_seconds, label: comment.body })));
}

function editComment(item, comment) {
  const body = item.querySelector("[data-body]");
  const form = document.createElement("form");
  form.className = "comment-edit";
  const label = document.createElement("label");
  label.className = "visually-hidden";
  label.htmlFor = `edit-${comment.id}`;
  label.textContent = "Edit comment";
  const area = document.createElement("textarea");
  area.id = `edit-${comment.id}`;
  area.rows = 2;
  area.value = comment.body;
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "button button--small";
  save.textContent = "Save";
  const error = document.createElement("p");
  error.className = "field-error";
  form.append(label, area, save, error);
  body.replaceWith(form);
  area.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const updated = await api(data.api.comment.replace("{id}", comment.id), { method: "PATCH", body: { body: area.value } });
      comments.set(updated.id, updated);
      renderComments();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

async function deleteComment(comment) {
  try {
    await api(data.api.comment.replace("{id}", comment.id), { method: "DELETE" });
    comments.delete(comment.id);
    renderComments();
    announce("Comment deleted.");
  } catch (error) {
    announce(error.message, { error: true });
  }
}

function showPinnedTime() {
  const time = pinnedAt ?? (transport ? transport.time() : 0);
  commentTime.textContent = formatClock(time);
}

commentBody.addEventListener("focus", () => {
  // Writing pins the comment to the frame on screen: the player pauses there.
  if (lead && !lead.paused) lead.pause();
  pinnedAt = transport ? transport.time() : 0;
  showPinnedTime();
});
lead?.addEventListener("timeupdate", () => {
  if (document.activeElement !== commentBody) pinnedAt = null;
  showPinnedTime();
});
lead?.addEventListener("seeked", () => {
  pinnedAt = null;
  showPinnedTime();
});
commentForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const at = pinnedAt ?? (transport ? transport.time() : 0);
  try {
    const comment = await api(data.api.comments, {
      method: "POST",
      body: { at_seconds: Math.round(at * 1000) / 1000, body: commentBody.value },
    });
    comments.set(comment.id, comment);
    renderComments();
    commentBody.value = "";
    document.getElementById("err-comment").textContent = "";
    announce(`Comment added at ${formatClock(comment.at_seconds)}.`);
  } catch (error) {
    const errors = error.errors || {};
    document.getElementById("err-comment").textContent = [...(errors.body || []), ...(errors.at_seconds || []), ...(errors.detail || [])].join(" ") || error.message;
  }
});

// --- star, boards, share, archive ---------------------------------------------------------------

const starButton = root.querySelector("[data-star]");

function renderStar(starred) {
  starButton.setAttribute("aria-pressed", String(starred));
  starButton.querySelector("[data-star-icon]").textContent = starred ? "★" : "☆";
  starButton.querySelector("[data-star-label]").textContent = starred ? "Starred" : "Star";
}

async function toggleStar() {
  const starred = starButton.getAttribute("aria-pressed") !== "true";
  try {
    const answer = await api(data.api.star, { method: starred ? "PUT" : "DELETE" });
    renderStar(answer.starred);
  } catch (error) {
    announce(error.message, { error: true });
  }
}
starButton.addEventListener("click", toggleStar);

root.querySelector("[data-board-add]")?.addEventListener("click", async () => {
  const select = document.getElementById("board-choice");
  if (!select.value) return;
  try {
    await api(`${data.api.boards}${select.value}/items/`, { method: "POST", body: { outputs: [data.output] } });
    const option = select.selectedOptions[0];
    if (!option.dataset.on) option.textContent = `${option.textContent} (already on it)`;
    option.dataset.on = "1";
    announce(`Added to ${option.textContent.replace(" (already on it)", "")}.`);
  } catch (error) {
    announce(error.message, { error: true });
  }
});

shareButton(root, {
  url: data.api.shares,
  body: () => ({ output: data.output, expires_in: document.getElementById("share-expiry").value }),
});

const archiveButton = root.querySelector("[data-archive]");
archiveButton.addEventListener("click", async () => {
  const archived = archiveButton.dataset.archived === "true";
  try {
    await api(data.api.archive, { method: "POST", body: { action: archived ? "unarchive" : "archive", outputs: [data.output] } });
    window.location.reload();
  } catch (error) {
    announce(error.message, { error: true });
  }
});
root.querySelector("[data-purge]")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (button.dataset.confirming !== "1") {
    // A second click confirms: purging deletes the files for good.
    button.dataset.confirming = "1";
    button.textContent = "Click again to delete the files for good";
    return;
  }
  try {
    await api(data.api.archive, { method: "POST", body: { action: "purge", outputs: [data.output] } });
    window.location.reload();
  } catch (error) {
    announce(error.message, { error: true });
  }
});

// --- keyboard -----------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typingInto(event.target, event.key)) return;
  const key = event.key.toLowerCase();
  const actions = {
    " ": () => transport?.toggle(),
    ",": () => transport?.step(-1),
    ".": () => transport?.step(1),
    j: () => data.next && (window.location.href = data.next),
    k: () => data.previous && (window.location.href = data.previous),
    a: () => approveButton.click(),
    r: () => openReject(),
    s: () => toggleStar(),
  };
  if (!(key in actions)) return;
  event.preventDefault();
  actions[key]();
});

// --- live ---------------------------------------------------------------------------------------

function applySnapshot(item) {
  renderVerdicts({ ...item, version: Math.max(item.version ?? 0, verdictVersion) });
  renderStar(Boolean(item.starred));
  if (Array.isArray(item.comments)) {
    comments.clear();
    for (const comment of item.comments) comments.set(comment.id, comment);
    renderComments();
  }
}

subscribe((message) => {
  if (message.output !== undefined && message.output !== data.output) return;
  if (message.type === "review.snapshot") {
    const item = message.outputs[String(data.output)];
    if (item) applySnapshot(item);
  } else if (message.type === "review.verdict") {
    renderVerdicts(message);
  } else if (message.type === "review.comment") {
    comments.set(message.comment.id, message.comment);
    renderComments();
  } else if (message.type === "review.comment_deleted") {
    comments.delete(message.id);
    renderComments();
  } else if (message.type === "review.star") {
    renderStar(message.starred);
  }
});

renderVerdicts(data.verdicts);
for (const comment of data.comments) comments.set(comment.id, comment);
renderComments();
showPinnedTime();
watchOutputs([data.output], { comments: true });
localizeTimes(root);
