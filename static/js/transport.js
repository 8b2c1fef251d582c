// One transport for several videos: play/pause, a scrub bar with markers, speed, frame steps.
//
// The lead video is driven by the controls; every follower mirrors its play, pause, seek and speed
// through sync.js (times mapped proportionally when lengths differ slightly). Markup inside `root`:
//   [data-play] button · [data-scrub] range · [data-time] text · [data-speed] select ·
//   [data-step="-1"|"1"] buttons · [data-markers] box for marker buttons over the scrub bar.

import { createSync } from "./sync.js";

export function formatClock(seconds) {
  const value = Math.max(0, Number(seconds) || 0);
  const minutes = Math.floor(value / 60);
  const rest = (value - minutes * 60).toFixed(1).padStart(4, "0");
  return `${minutes}:${rest}`;
}

/** True when a key press belongs to the focused control (typing, ticking, pressing a button) rather
 *  than to the page's shortcuts. */
export function typingInto(target, key) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  if (target.tagName === "INPUT") {
    return !["checkbox", "radio", "range", "button", "submit"].includes(target.type) || key === " ";
  }
  if (["BUTTON", "A", "SUMMARY"].includes(target.tagName)) return key === " " || key === "Enter";
  return false;
}

export function createTransport(root, { lead, followers = [], fps = 16, onMarker = null } = {}) {
  const play = root.querySelector("[data-play]");
  const scrub = root.querySelector("[data-scrub]");
  const clock = root.querySelector("[data-time]");
  const speed = root.querySelector("[data-speed]");
  const markerBox = root.querySelector("[data-markers]");
  const frame = 1 / (Number(fps) > 0 ? Number(fps) : 16);
  let dragging = false;
  let markers = [];

  for (const follower of followers) createSync(follower).attach(lead);

  const duration = () => (Number.isFinite(lead.duration) && lead.duration > 0 ? lead.duration : Number(scrub?.max) || 0);

  function render() {
    if (play) {
      const playing = !lead.paused && !lead.ended;
      play.setAttribute("aria-pressed", playing ? "true" : "false");
      play.querySelector("[data-play-label]").textContent = playing ? "Pause" : "Play";
      play.dataset.state = playing ? "playing" : "paused";
    }
    if (scrub && !dragging) {
      scrub.max = String(duration() || 1);
      scrub.value = String(lead.currentTime);
      scrub.setAttribute("aria-valuetext", `${formatClock(lead.currentTime)} of ${formatClock(duration())}`);
    }
    if (clock) clock.textContent = `${formatClock(lead.currentTime)} / ${formatClock(duration())}`;
  }

  function tick() {
    render();
    if (!lead.paused) requestAnimationFrame(tick);
  }

  function seek(seconds) {
    const end = duration();
    lead.currentTime = Math.max(0, end ? Math.min(seconds, end) : seconds);
    render();
  }

  function toggle() {
    if (lead.paused || lead.ended) {
      lead.play().catch(() => {});
    } else {
      lead.pause();
    }
  }

  function step(frames) {
    lead.pause();
    seek(lead.currentTime + frames * frame);
  }

  function renderMarkers() {
    if (!markerBox) return;
    markerBox.replaceChildren();
    const end = duration();
    if (!end) return;
    for (const marker of markers) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "marker";
      button.dataset.markerId = String(marker.id);
      button.style.left = `${Math.min(100, (marker.time / end) * 100)}%`;
      button.title = marker.label;
      button.setAttribute("aria-label", `Comment at ${formatClock(marker.time)}: ${marker.label}`);
      button.addEventListener("click", () => {
        seek(marker.time);
        if (onMarker) onMarker(marker);
      });
      markerBox.append(button);
    }
  }

  play?.addEventListener("click", toggle);
  scrub?.addEventListener("pointerdown", () => (dragging = true));
  scrub?.addEventListener("pointerup", () => (dragging = false));
  scrub?.addEventListener("input", () => {
    lead.currentTime = Number(scrub.value);
    if (clock) clock.textContent = `${formatClock(scrub.value)} / ${formatClock(duration())}`;
  });
  scrub?.addEventListener("change", () => {
    dragging = false;
    render();
  });
  speed?.addEventListener("change", () => {
    lead.playbackRate = Number(speed.value) || 1;
  });
  root.querySelectorAll("[data-step]").forEach((button) =>
    button.addEventListener("click", () => step(Number(button.dataset.step))),
  );
  for (const name of ["play", "pause", "ended", "seeked", "loadedmetadata", "durationchange", "timeupdate"]) {
    lead.addEventListener(name, () => {
      render();
      if (name === "play") requestAnimationFrame(tick);
      if (name === "loadedmetadata" || name === "durationchange") renderMarkers();
    });
  }
  render();

  return {
    lead,
    seek,
    toggle,
    step,
    time: () => lead.currentTime,
    setMarkers(list) {
      markers = list;
      renderMarkers();
    },
  };
}
