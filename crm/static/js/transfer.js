// Import pages: upload progress, then a "processing" state while the server checks every row.
// Progressive enhancement only: without this file the forms submit normally.
(() => {
  const upload = document.querySelector("form[data-upload]");
  if (upload) {
    const status = upload.querySelector("[data-processing]");
    const bar = status.querySelector("progress");
    const text = status.querySelector("[data-status]");
    const show = (message, value) => {
      status.hidden = false;
      text.textContent = message;
      if (value === undefined) bar.removeAttribute("value"); else bar.value = value;
    };
    upload.addEventListener("submit", (event) => {
      const file = upload.querySelector("input[type=file]").files[0];
      if (!file || !window.FormData) return; // the server explains what is missing
      event.preventDefault();
      if (file.size > Number(upload.dataset.maxBytes)) {
        show(upload.dataset.tooLarge, 0);
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action || window.location.href);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          const percent = Math.round((100 * e.loaded) / e.total);
          show(`${upload.dataset.uploading} ${percent}%`, percent);
        }
      });
      xhr.upload.addEventListener("load", () => show(upload.dataset.checking));
      xhr.addEventListener("load", () => {
        if (xhr.status === 200 && xhr.responseURL && xhr.responseURL !== window.location.href) {
          window.location.assign(xhr.responseURL); // redirected to the preview
        } else {
          document.open(); // the upload page again, with the reason the file was refused
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", () => upload.submit());
      upload.querySelector("button[type=submit]").disabled = true;
      show(`${upload.dataset.uploading} 0%`, 0);
      xhr.send(new FormData(upload));
    });
  }

  // Confirming may take a while for a large file: show it, and prevent a second click.
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", () => {
      const status = document.querySelector("[data-busy-status]");
      if (status) {
        status.hidden = false;
        status.append(document.createTextNode(` ${form.dataset.busy}`));
      }
      document.querySelectorAll("form[data-busy] button").forEach((b) => { b.disabled = true; });
    });
  });
})();
