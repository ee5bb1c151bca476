// The "add recording" page: send the video with XMLHttpRequest so the organizer sees how much
// of a large file has been sent, and refuse a file over the limit before sending any of it.
// Without JavaScript the form posts as usual; the server checks everything either way.
(() => {
  function box(input) {
    const wrap = document.createElement("div");
    wrap.className = "recording-upload";
    wrap.innerHTML = '<progress max="100" value="0"></progress> <span class="recording-upload-text"></span>';
    wrap.hidden = true;
    input.parentNode.appendChild(wrap);
    return wrap;
  }

  function showError(input, message) {
    let note = input.parentNode.querySelector(".recording-upload-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "recording-upload-error errornote";
      input.parentNode.appendChild(note);
    }
    note.textContent = message;
  }

  function megabytes(bytes) {
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  function send(form, input, submitter, wrap) {
    const data = new FormData(form);
    if (submitter?.name) {
      data.append(submitter.name, submitter.value);
    }
    const request = new XMLHttpRequest();
    const bar = wrap.querySelector("progress");
    const text = wrap.querySelector(".recording-upload-text");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        const percent = Math.floor((event.loaded / event.total) * 100);
        bar.value = percent;
        text.textContent = `Sending ${percent}% (${megabytes(event.loaded)} of ${megabytes(event.total)})`;
      }
    });
    request.upload.addEventListener("load", () => {
      text.textContent = "Sent; checking the file…";
    });
    request.addEventListener("load", () => {
      // Show the answer as the page (the recording's page after a redirect, or the form with
      // the server's reasons): loading it again would lose its one-time messages.
      const url = request.responseURL;
      document.open();
      document.write(request.responseText);
      document.close();
      if (url && url !== window.location.href) {
        window.history.replaceState(null, "", url);
      }
    });
    request.addEventListener("error", () => {
      wrap.hidden = true;
      form.dataset.sending = "";
      showError(input, "The upload was interrupted (network error). Please try again.");
    });
    request.open("POST", form.action);
    request.send(data);
  }

  function start() {
    const input = document.querySelector('form input[type="file"][name="video"]');
    if (!input || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    const form = input.form;
    const wrap = box(input);
    let submitter = null;
    form.addEventListener("click", (event) => {
      if (event.target.type === "submit") {
        submitter = event.target;
      }
    });
    form.addEventListener("submit", (event) => {
      const file = input.files[0];
      if (!file) {
        return; // the server says a file is needed
      }
      event.preventDefault();
      if (form.dataset.sending) {
        return;
      }
      const limit = Number(input.dataset.maxBytes);
      if (limit && file.size > limit) {
        showError(input, input.dataset.tooLarge);
        return;
      }
      form.dataset.sending = "1";
      wrap.hidden = false;
      send(form, input, event.submitter || submitter, wrap);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
