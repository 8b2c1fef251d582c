// Live status over one websocket: connect, keep a small store of generations, tell the page.
//
// The server sends a snapshot from the database on every (re)connect, then live events. The store
// merges both and never moves a generation backwards (a late "processing" after "done" is ignored),
// except that a snapshot is the database's truth and always wins.
//
// Page code:  import { subscribe, ingest } from "./live.js";
//   subscribe(fn) -> unsubscribe; fn receives
//     {type: "generation.status", generation: <event>}   (merged, newest state)
//     {type: "generation.output", id, output}            (each output once per page)
//     {type: "snapshot", ids: [...]}                     (after a snapshot has been applied)
//     {type: "connection", state: "connecting" | "live" | "reconnecting" | "offline"}
//     {type: "notification", id, title, body, url, ...}  (for this user only: budget alerts...)
//   ingest(message) feeds a message the page received by HTTP through the same path.
//   watchOutputs(ids, {comments}) asks, on every (re)connect, for the review snapshot of those outputs;
//     review messages ("review.snapshot", "review.verdict", "review.comment", "review.star", ...)
//     are passed to listeners as they come.

const ORDER = { queued: 0, submitted: 1, processing: 2, receiving: 3, done: 4, failed: 4 };
const MAX_DELAY_MS = 10000;
const BASE_DELAY_MS = 500;

const listeners = new Set();
const store = new Map(); // id -> {generation, outputs: Map(outputId -> output)}
let snapshotIds = null;
let socket = null;
let attempt = 0;
let retryTimer = null;
let countdownTimer = null;
let stopped = false;
let connectionState = "connecting";
const watched = { outputs: new Set(), comments: false };

function emit(message) {
  for (const listener of listeners) {
    try {
      listener(message);
    } catch (error) {
      console.error("live.js listener failed", error);
    }
  }
}

function entry(id) {
  const key = Number(id);
  if (!store.has(key)) store.set(key, { generation: null, outputs: new Map() });
  return store.get(key);
}

function applyStatus(event, authoritative) {
  const item = entry(event.id);
  const current = item.generation;
  if (current && !authoritative) {
    const before = ORDER[current.status] ?? 0;
    const after = ORDER[event.status] ?? 0;
    if (after < before) return;
    if (current.status === "done" || current.status === "failed") {
      if (event.status !== current.status) return;
    }
    if (after === before && (event.results_received ?? 0) < (current.results_received ?? 0)) return;
  }
  const { outputs, ...generation } = event;
  item.generation = { ...generation, type: "generation.status" };
  emit({ type: "generation.status", generation: item.generation });
  for (const output of outputs || []) applyOutput(event.id, output);
}

function applyOutput(id, output) {
  const item = entry(id);
  if (item.outputs.has(output.id)) return;
  item.outputs.set(output.id, output);
  emit({ type: "generation.output", id: Number(id), output });
}

/** Feed one server message (from the socket, or a JSON answer the page got by HTTP). */
export function ingest(message) {
  if (!message || typeof message !== "object") return;
  if (message.type === "snapshot") {
    snapshotIds = [];
    for (const generation of message.generations || []) {
      snapshotIds.push(generation.id);
      applyStatus(generation, true);
    }
    emit({ type: "snapshot", ids: [...snapshotIds] });
  } else if (message.type === "generation.status") {
    applyStatus(message, false);
  } else if (message.type === "generation.output") {
    applyOutput(message.id, message.output);
  } else if (message.type === "notification" || (typeof message.type === "string" && message.type.startsWith("review."))) {
    emit(message);
  }
}

function sendWatch() {
  if (!watched.outputs.size || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: "review.subscribe", outputs: [...watched.outputs], comments: watched.comments }));
}

/** Follow the review state of these outputs: a snapshot now and after every reconnect, then events. */
export function watchOutputs(ids, { comments = false } = {}) {
  for (const id of ids) watched.outputs.add(Number(id));
  watched.comments = watched.comments || comments;
  sendWatch();
}

/** Listen to live messages; the current store is replayed to a late subscriber. */
export function subscribe(listener) {
  listeners.add(listener);
  listener({ type: "connection", state: connectionState });
  for (const [id, item] of store) {
    if (item.generation) listener({ type: "generation.status", generation: item.generation });
    for (const output of item.outputs.values()) listener({ type: "generation.output", id, output });
  }
  if (snapshotIds) listener({ type: "snapshot", ids: [...snapshotIds] });
  return () => listeners.delete(listener);
}

/** The latest known state of a generation, or null. */
export function generationState(id) {
  const item = store.get(Number(id));
  return item ? { generation: item.generation, outputs: [...item.outputs.values()] } : null;
}

function setIndicator(state, text) {
  connectionState = state;
  const indicator = document.querySelector("[data-conn]");
  if (indicator) {
    indicator.dataset.state = state;
    const label = indicator.querySelector("[data-conn-text]");
    if (label) label.textContent = text;
  }
  emit({ type: "connection", state });
}

function socketUrl() {
  const protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${protocol}//${window.location.host}/ws/generations/`;
}

function connect() {
  clearTimeout(retryTimer);
  clearInterval(countdownTimer);
  retryTimer = countdownTimer = null;
  if (stopped) return;
  setIndicator(attempt === 0 ? "connecting" : "reconnecting", attempt === 0 ? "Connecting…" : "Reconnecting…");
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch (error) {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    attempt = 0;
    setIndicator("live", "Live");
    sendWatch();
  });
  ws.addEventListener("message", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    ingest(data);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code === 4403) {
      stopped = true;
      setIndicator("offline", "Offline (no team)");
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (stopped || retryTimer) return;
  attempt += 1;
  // Exponential backoff with jitter, capped, so a restarted server is not hit by every tab at once.
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
    setIndicator("reconnecting", `Reconnecting in ${seconds} s…`);
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
  retryTimer = setTimeout(connect, delay);
}

function reconnectNow() {
  if (stopped) return;
  if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
  attempt = Math.max(attempt, 1);
  connect();
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  if (socket && socket.readyState === WebSocket.OPEN) {
    // A tab that slept may have missed events: ask for a fresh snapshot.
    socket.send(JSON.stringify({ type: "snapshot" }));
    sendWatch();
  } else {
    reconnectNow();
  }
});
window.addEventListener("online", reconnectNow);

if (document.querySelector("[data-conn]")) connect();
