// Progressive enhancement only: every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A second tap while a form is on its way would send it again (a slow connection on site): until the answer
// comes, further submits of that form by the same button are dropped. Forms answered in place (the board's moves)
// handle their own; a form answered by a download leaves the page as it was, so it may be sent again after a
// while — and by its other button at once (导出 Excel, then 导出 CSV).
const SENDING_MS = 10000;
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method.toLowerCase() !== "post") return;
  const button = event.submitter ? `${event.submitter.name}=${event.submitter.value}` : "*";
  if (form.dataset.sending === button) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = button;
  window.setTimeout(() => delete form.dataset.sending, SENDING_MS);
});
// Back to a page kept in the browser's cache: its forms may be sent again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-sending]").forEach((form) => delete form.dataset.sending);
});
