// Drafts: what is typed into a form marked data-draft is kept in this browser until the server says it was saved,
// so a visit typed on site outlives a sign-in that expired, a lost connection or a closed tab. Nothing leaves the
// device. Without this file the forms work the same, without drafts.
(() => {
  const PREFIX = "ladder-draft:";
  const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  let store;
  try {
    store = window.localStorage;
  } catch (error) {
    return; // storage turned off
  }

  const drafts = () => Object.keys(store).filter((key) => key.startsWith(PREFIX));
  const age = (key) => {
    try {
      return Date.now() - JSON.parse(store.getItem(key)).at;
    } catch (error) {
      return Infinity;
    }
  };
  // The page after a save names the drafts it settled ("*" after signing out: all of them, a phone handed on
  // keeps no visit notes); drafts left for a week are dropped on any page.
  document.querySelectorAll("[data-draft-saved]").forEach((el) => {
    const settled = el.dataset.draftSaved === "*" ? drafts() : [PREFIX + el.dataset.draftSaved];
    settled.forEach((key) => store.removeItem(key));
  });
  drafts().filter((key) => age(key) > MAX_AGE_MS).forEach((key) => store.removeItem(key));

  const typed = (form) => Array.from(new FormData(form)).filter(([name, value]) => name !== "csrf_token" &&
                                                                                   typeof value === "string");

  const shown = (el) => (el.multiple ? Array.from(el.selectedOptions, (o) => o.value).join() :
                                       `${el.value}:${el.checked}`);

  function restore(form, fields) {
    const addRow = form.querySelector("[data-add-follow-up]");
    const values = new Map();
    for (const [name, value] of fields) values.set(name, [...(values.get(name) || []), value]);
    for (const [name, wanted] of values) {
      // A follow-up row added on the page before: add rows until it is there again.
      for (let i = 0; i < 30 && addRow && !form.elements.namedItem(name); i++) addRow.click();
      const item = form.elements.namedItem(name);
      if (!item) continue;
      for (const el of item instanceof RadioNodeList ? Array.from(item) : [item]) {
        const before = shown(el);
        if (el.type === "checkbox" || el.type === "radio") el.checked = wanted.includes(el.value);
        else if (el.multiple) Array.from(el.options).forEach((o) => { o.selected = wanted.includes(o.value); });
        else el.value = wanted[0];
        if (shown(el) === before) continue;
        // What was put back is in sight: a follow-up row holding a title, the folded participants.
        const row = el.closest("[hidden]");
        if (row && (el.type === "text" || el.tagName === "TEXTAREA") && el.value.trim()) row.hidden = false;
        const folded = el.closest("details");
        if (folded) folded.open = true;
      }
    }
  }

  function setUp(form) {
    const key = PREFIX + form.dataset.draft;
    const notice = document.querySelector("[data-draft-notice]");
    let saved = null;
    try {
      saved = JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      store.removeItem(key);
    }
    if (saved && "draftRestore" in form.dataset) {
      restore(form, saved.fields); // its client_token too: sent again, the server knows it if it was saved
      if (notice) {
        notice.querySelector("[data-draft-time]").textContent =
          new Date(saved.at).toLocaleString(document.documentElement.lang || undefined);
        notice.hidden = false;
        notice.querySelector("[data-draft-discard]").addEventListener("click", () => {
          store.removeItem(key);
          window.location.reload();
        });
      }
    }
    // The draft's own token (crypto.randomUUID needs https; an intranet may serve plain http).
    const token = form.elements.namedItem("client_token");
    if (token && !token.value) {
      token.value = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
        .join("");
    }
    let timer = null;
    const keep = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        try {
          store.setItem(key, JSON.stringify({ at: Date.now(), fields: typed(form) }));
        } catch (error) {
          // storage full: the form still works
        }
      }, 300);
    };
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    // Sent: keep what is there now (the answer may be a sign-in page); the page after a save clears it.
    form.addEventListener("submit", () => {
      window.clearTimeout(timer);
      store.setItem(key, JSON.stringify({ at: Date.now(), fields: typed(form) }));
    });
  }

  // After the page's other scripts (deferred, run before this event) have laid out their rows.
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("form[data-draft]").forEach(setUp));
})();
