// What a result carries beyond its video, shared by the pages that list results: the blur over a result
// the safety check flagged (with "Show anyway"), and where its sound came from (with Runware's own file).
//
//   revealFlagged(root)          one click handler for every flagged result under root, now and later
//   decorateOutput(node, output) applies both to a result added live ({nsfw, audio, audio_note, original})

const COVER_TEXT = ["Flagged by the safety check", "This result may contain sensitive content."];

function cover() {
  const box = document.createElement("div");
  box.className = "nsfw-cover";
  box.dataset.nsfwCover = "";
  const text = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = COVER_TEXT[0];
  const more = document.createElement("span");
  more.textContent = COVER_TEXT[1];
  text.append(strong, document.createElement("br"), more);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button--small";
  button.dataset.reveal = "";
  button.textContent = "Show anyway";
  box.append(text, button);
  return box;
}

export function revealFlagged(root) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reveal]");
    if (!button || !root.contains(button)) return;
    const frame = button.closest("[data-nsfw-frame]");
    if (!frame) return;
    frame.classList.remove("is-nsfw");
    frame.querySelector("[data-nsfw-cover]")?.remove();
    frame.querySelector("video")?.focus();
  });
}

export function decorateOutput(node, output) {
  const frame = node.querySelector("[data-nsfw-frame]");
  if (frame && output.nsfw && !frame.querySelector("[data-nsfw-cover]")) {
    frame.classList.add("is-nsfw");
    frame.append(cover());
  }
  const audio = node.querySelector("[data-audio]");
  if (!audio) return;
  audio.replaceChildren();
  audio.hidden = output.audio !== "kept" && output.audio !== "failed";
  if (output.audio === "kept") {
    const link = document.createElement("a");
    link.href = `${output.original}?download=1`;
    link.setAttribute("download", "");
    link.textContent = "Runware's original file";
    audio.append("With the driving video's sound (Runware's picture, untouched). ", link, " (silent).");
  } else if (output.audio === "failed") {
    audio.textContent = `${output.audio_note} This is Runware's silent file.`;
  }
}
