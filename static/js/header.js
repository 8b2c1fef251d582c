// The header: the unread-notifications count and a short announcement when a notification arrives live.

import { subscribe } from "./live.js";

const bell = document.querySelector("[data-notifications]");
const count = bell && bell.querySelector("[data-unread]");
const seen = new Set();

function announce(message) {
  let region = document.getElementById("toast");
  if (!region) {
    region = document.createElement("div");
    region.id = "toast";
    region.className = "toast";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  const item = document.createElement("p");
  const link = document.createElement("a");
  link.href = message.url || bell.getAttribute("href");
  link.textContent = message.title;
  item.append(link);
  if (message.body) {
    const body = document.createElement("span");
    body.textContent = ` — ${message.body}`;
    item.append(body);
  }
  region.append(item);
  setTimeout(() => item.remove(), 15000);
}

if (count) {
  subscribe((message) => {
    if (message.type !== "notification" || seen.has(message.id)) return;
    seen.add(message.id);
    count.textContent = String(Number(count.textContent || "0") + 1);
    count.hidden = false;
    announce(message);
  });
}
