// Compare two outputs: side by side or overlaid with a draggable wipe, one transport for both.

import { pageData } from "./api.js";
import { createTransport, typingInto } from "./transport.js";

const data = pageData("compare-data");
const a = document.getElementById("video-a");
const b = document.getElementById("video-b");

if (a && b) {
  const view = document.getElementById("compare-view");
  const wipe = document.getElementById("wipe");
  const handle = document.getElementById("wipe-handle");
  const control = document.getElementById("wipe-control");
  const transport = createTransport(document.querySelector("[data-transport]"), { lead: a, followers: [b], fps: data.fps });

  function setWipe(percent) {
    const value = Math.min(100, Math.max(0, percent));
    wipe.value = String(Math.round(value));
    // B shows to the right of the line, A to its left.
    b.closest(".pane").style.clipPath = view.dataset.view === "wipe" ? `inset(0 0 0 ${value}%)` : "";
    handle.style.left = `${value}%`;
  }

  function setView(mode) {
    view.dataset.view = mode;
    control.hidden = mode !== "wipe";
    setWipe(Number(wipe.value));
  }

  document.querySelectorAll("input[name=view]").forEach((radio) =>
    radio.addEventListener("change", () => radio.checked && setView(radio.value)),
  );
  wipe.addEventListener("input", () => setWipe(Number(wipe.value)));

  let dragging = false;
  const follow = (event) => {
    const box = view.getBoundingClientRect();
    setWipe(((event.clientX - box.left) / box.width) * 100);
  };
  view.addEventListener("pointerdown", (event) => {
    if (view.dataset.view !== "wipe") return;
    dragging = true;
    view.setPointerCapture(event.pointerId);
    follow(event);
  });
  view.addEventListener("pointermove", (event) => dragging && follow(event));
  view.addEventListener("pointerup", () => (dragging = false));
  view.addEventListener("pointercancel", () => (dragging = false));

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typingInto(event.target, event.key)) return;
    if (event.key === " ") {
      event.preventDefault();
      transport.toggle();
    } else if (event.key === ",") {
      transport.step(-1);
    } else if (event.key === ".") {
      transport.step(1);
    }
  });
  setView("side");
}
