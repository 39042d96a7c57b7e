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

  // The page after a save names the drafts it settled.
  document.querySelectorAll("[data-draft-saved]").forEach((el) => store.removeItem(PREFIX + el.dataset.draftSaved));

  const typed = (form) => Array.from(new FormData(form)).filter(([name, value]) => name !== "csrf_token" &&
                                                                                   typeof value === "string");

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
        if (el.type === "checkbox" || el.type === "radio") el.checked = wanted.includes(el.value);
        else if (el.multiple) Array.from(el.options).forEach((o) => { o.selected = wanted.includes(o.value); });
        else el.value = wanted[0];
        if (el.value && el.closest("[hidden]")) el.closest("[hidden]").hidden = false; // a row holding text shows
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
    if (saved && Date.now() - saved.at > MAX_AGE_MS) {
      store.removeItem(key);
      saved = null;
    }
    if (saved && "draftRestore" in form.dataset) {
      restore(form, saved.fields);
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
