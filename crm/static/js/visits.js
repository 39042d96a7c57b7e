// Visit form: one empty follow-up row at a time; "添加跟进事项" reveals the next one or clones a new one.
// Without this file the form shows three empty rows and works the same.
(() => {
  const box = document.querySelector("[data-follow-up-rows]");
  if (!box) return;
  const button = box.querySelector("[data-add-follow-up]");
  const rows = () => Array.from(box.querySelectorAll("[data-follow-up-row]"));
  const title = (row) => row.querySelector("input[name$='-title']");
  const isBlank = (row) => !title(row).value.trim() && !row.querySelector(".has-error");

  let blankShown = false;
  for (const row of rows()) {
    if (!isBlank(row)) continue;
    row.hidden = blankShown;
    blankShown = true;
  }
  button.hidden = false;

  button.addEventListener("click", () => {
    let row = rows().find((r) => r.hidden);
    if (!row) {
      const all = rows();
      const last = all[all.length - 1];
      row = last.cloneNode(true);
      for (const el of row.querySelectorAll("[name], [id], [for]")) {
        for (const attr of ["name", "id", "for"]) {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/^follow_ups-\d+-/, `follow_ups-${all.length}-`));
        }
      }
      title(row).value = "";
      row.querySelectorAll(".error").forEach((e) => e.remove());
      row.querySelectorAll(".has-error").forEach((e) => e.classList.remove("has-error"));
      last.after(row);
    }
    row.hidden = false;
    title(row).focus();
  });
})();
