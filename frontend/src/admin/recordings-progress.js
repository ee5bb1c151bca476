// The recording's change page: while it is queued or processing, ask the admin's status
// endpoint every 2 s and update the progress bar, stage, status, failure reason and the page's
// heading ("recording N of <session> (<status>)") in place. When processing ends, the page
// reloads itself to show the result (renditions, poster), unless a field of the form was edited
// (then it says so); a failure is shown in place.
(() => {
  const POLLED = { queued: true, processing: true, capturing: true };
  const INTERVAL_MS = 2000;

  function render(box, data) {
    const bar = box.querySelector("progress");
    bar.value = data.progress;
    bar.textContent = `${data.progress}%`;
    box.querySelector(".recording-progress-text").textContent =
      `${data.progress}%${data.stage ? ` — ${data.stage}` : ""}`;
    box.querySelector(".recording-progress-status").textContent = data.status_label;
    const error = box.querySelector(".recording-progress-error");
    error.textContent = data.error;
    error.hidden = !data.error;
    box.dataset.status = data.status;
    retitle(data.status);
  }

  // The heading and the breadcrumb end with the recording's status in brackets.
  function retitle(status) {
    const nodes = document.querySelectorAll("#content > h2, .breadcrumbs");
    Array.prototype.forEach.call(nodes, (node) => {
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const text = walker.currentNode;
        text.nodeValue = text.nodeValue.replace(
          /\((queued|processing|capturing|ready|failed)\)(\s*)$/,
          `(${status})$2`,
        );
      }
    });
  }

  let edited = false;
  document.addEventListener("input", () => {
    edited = true;
  });

  function finished(box, status) {
    const done = box.querySelector(".recording-progress-done");
    done.hidden = false;
    if (status !== "ready") {
      done.textContent = "Processing stopped; the reason is shown above.";
    } else if (!edited) {
      done.textContent = "Finished: showing the result…";
      window.location.reload();
    }
  }

  function poll(box, url, failures) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.status === 403 || response.status === 404) {
          throw new Error("stop");
        }
        if (!response.ok) {
          throw new Error("retry");
        }
        return response.json();
      })
      .then((data) => {
        render(box, data);
        if (POLLED[data.status]) {
          window.setTimeout(poll, INTERVAL_MS, box, url, 0);
        } else {
          finished(box, data.status);
        }
      })
      .catch((error) => {
        if (error.message === "stop") {
          return;
        }
        // the server may be restarting: back off, up to 30 s between tries
        const delay = Math.min(INTERVAL_MS * 2 ** (failures + 1), 30000);
        window.setTimeout(poll, delay, box, url, failures + 1);
      });
  }

  function start() {
    const boxes = document.querySelectorAll(".recording-progress[data-status-url]");
    Array.prototype.forEach.call(boxes, (box) => {
      if (box.dataset.statusUrl && POLLED[box.dataset.status]) {
        window.setTimeout(poll, INTERVAL_MS, box, box.dataset.statusUrl, 0);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
