// Calls to our REST API from the pages: session cookie + CSRF header, JSON both ways, and one error
// shape ({"errors": {"<field>": ["message"]}}) turned into readable text.

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export class ApiError extends Error {
  constructor(status, errors) {
    super(Object.values(errors || {}).flat().join(" ") || `The server answered HTTP ${status}.`);
    this.status = status;
    this.errors = errors || {};
  }
}

/** fetch JSON from /api/; resolves to the body (null for 204), rejects with ApiError. */
export async function api(url, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(method !== "GET" ? { "X-CSRFToken": csrfToken() } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, { detail: ["The server could not be reached. Try again."] });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.errors);
  return data;
}

/** Read a json_script block. */
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

/** Announce a short message in the page's polite live region (and show it). */
export function announce(text, { error = false } = {}) {
  const region = document.getElementById("announce");
  if (!region) return;
  region.textContent = text;
  region.classList.toggle("is-error", error);
  region.hidden = !text;
  clearTimeout(announce.timer);
  if (!error) announce.timer = setTimeout(() => (region.hidden = true), 5000);
}

/** Wire a "Share link" button: create the link on click, show its URL once, and offer to copy it.
 *  `body()` gives the request (output or board, and the lifetime chosen). */
export function shareButton(root, { url, body }) {
  const button = root.querySelector("[data-share]");
  const box = root.querySelector("[data-share-result]");
  const input = document.getElementById("share-url");
  button?.addEventListener("click", async () => {
    try {
      const link = await api(url, { method: "POST", body: body() });
      box.hidden = false;
      input.value = link.url;
      input.select();
      announce("Share link created.");
    } catch (error) {
      announce(error.message, { error: true });
    }
  });
  root.querySelector("[data-copy]")?.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      announce("Link copied.");
    } catch {
      announce("Select the link and copy it.");
    }
  });
}
