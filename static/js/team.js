// Team administration: confirm before removing someone, and select a one-time secret for copying.

import { localizeTimes } from "./status.js";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

document.querySelectorAll(".secret").forEach((node) => {
  node.tabIndex = 0;
  node.addEventListener("focus", () => {
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(node);
    selection.removeAllRanges();
    selection.addRange(range);
  });
});

localizeTimes(document);
