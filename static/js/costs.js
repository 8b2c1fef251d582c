// The admin pages: the custom range fields follow the range choice; a running reconciliation is
// watched until Runware has answered, then the page shows the result.

import { localizeTimes } from "./status.js";

const range = document.querySelector("[data-range-select]");
if (range) {
  const custom = document.querySelectorAll("[data-custom-range]");
  const sync = () => custom.forEach((field) => (field.hidden = range.value !== "custom"));
  range.addEventListener("change", sync);
  sync();
}

const reconciliation = document.getElementById("reconciliation");
if (reconciliation && reconciliation.dataset.status === "running") {
  const url = reconciliation.dataset.statusUrl;
  const progress = reconciliation.querySelector("[data-reconcile-progress]");
  let waited = 0;
  const check = async () => {
    waited += 1;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const body = await response.json();
        if (body.status !== "running") {
          window.location.reload();
          return;
        }
      }
    } catch {
      // Try again on the next tick.
    }
    if (progress) progress.textContent = `Asking Runware… (${waited} s)`;
    setTimeout(check, 1000);
  };
  setTimeout(check, 1000);
}

localizeTimes(document);
