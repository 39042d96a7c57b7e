// The kanban board of a round: move cards in place, by drag-and-drop or with the card's own form.
// Progressive enhancement: without this file each card's plain form posts and the page reloads.
(() => {
  "use strict";
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const status = document.querySelector("[data-board-status]");
  const dialog = document.querySelector("[data-move-dialog]");
  const NEEDS_INFO = board.dataset.needsInfo.split(" "); // stages that ask for a reason or a certificate
  let dragged = null;
  let pending = null; // {card, to} while the dialog asks for a reason or a certificate

  const column = (stage) => board.querySelector(`.board-column[data-stage="${stage}"]`);
  const stageLabel = (stage) => column(stage).getAttribute("aria-label");
  const allows = (card, stage) => card.dataset.allowed.split(" ").includes(stage);

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function bump(stage, delta) {
    const count = column(stage).querySelector("[data-count]");
    count.textContent = String(Number(count.textContent) + delta);
  }

  async function post(card, to, extra) {
    const form = card.querySelector("form[data-move]");
    const data = new FormData(form); // carries the CSRF token, the expected stage and `next`
    data.set("to", to);
    for (const [name, value] of Object.entries(extra || {})) data.set(name, value);
    try {
      const response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
      });
      return await response.json();
    } catch (error) {
      return { ok: false, error: board.dataset.error };
    }
  }

  function place(card, result) {
    const from = card.dataset.stage;
    const fresh = document.createRange().createContextualFragment(result.card).querySelector(".app-card");
    card.remove();
    column(result.stage).querySelector("[data-drop]").prepend(fresh);
    bump(from, -1);
    bump(result.stage, 1);
    say(board.dataset.moved.replace("{company}", fresh.querySelector(".app-company").textContent)
      .replace("{stage}", stageLabel(result.stage)));
  }

  async function move(card, to) {
    if (card.classList.contains("busy") || card.dataset.stage === to) return;
    if (!allows(card, to)) {
      say(board.dataset.refused.replace("{stage}", stageLabel(to)), true);
      return;
    }
    if (NEEDS_INFO.includes(to) && dialog) {
      ask(card, to);
      return;
    }
    card.classList.add("busy");
    const result = await post(card, to);
    card.classList.remove("busy");
    if (result.ok) place(card, result);
    else say(result.error, true);
  }

  function ask(card, to) {
    pending = { card, to };
    const form = dialog.querySelector("form");
    form.reset();
    dialog.querySelector("[data-dialog-title]").textContent =
      `${card.querySelector(".app-company").textContent} → ${stageLabel(to)}`;
    dialog.querySelectorAll("[data-for]").forEach((el) => { el.hidden = !el.dataset.for.split(" ").includes(to); });
    dialog.querySelector("[data-dialog-error]").textContent = "";
    dialog.showModal();
  }

  if (dialog) {
    const form = dialog.querySelector("form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const extra = {};
      form.querySelectorAll("[data-for]:not([hidden]) [name]").forEach((field) => { extra[field.name] = field.value; });
      const result = await post(pending.card, pending.to, extra);
      if (result.ok) {
        dialog.close();
        place(pending.card, result);
      } else {
        dialog.querySelector("[data-dialog-error]").textContent = result.error;
      }
    });
    dialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => dialog.close());
  }

  board.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-move]");
    if (!form) return;
    event.preventDefault();
    move(form.closest(".app-card"), form.elements.to.value);
  });

  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".app-card[draggable]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("dragging");
  });

  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    board.querySelectorAll(".drop-ok").forEach((el) => el.classList.remove("drop-ok"));
  });

  board.addEventListener("dragover", (event) => {
    const zone = event.target.closest(".board-column");
    if (zone && dragged && allows(dragged, zone.dataset.stage)) {
      event.preventDefault();
      zone.classList.add("drop-ok");
    }
  });

  board.addEventListener("dragleave", (event) => {
    const zone = event.target.closest(".board-column");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drop-ok");
  });

  board.addEventListener("drop", (event) => {
    const zone = event.target.closest(".board-column");
    if (!zone || !dragged) return;
    event.preventDefault();
    zone.classList.remove("drop-ok");
    move(dragged, zone.dataset.stage);
  });
})();
