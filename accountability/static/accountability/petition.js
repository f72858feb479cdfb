/* Live signature count on a petition page, over /ws/petitions/<id>/.
 *
 * The count is server-rendered; this only keeps it current. If the socket
 * closes it reconnects with backoff; code 4404 (no such petition) stops it.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-petition-live]");
  if (!box || !("WebSocket" in window)) return;
  var countEl = box.querySelector("[data-signature-count]");
  var statusEl = box.querySelector("[data-petition-status]");
  var liveEl = box.querySelector("[data-live-status]");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + box.dataset.wsPath;
  var attempts = 0;
  var LABELS = {
    open: "Gathering signatures",
    threshold_reached: "Waiting for the board's answer",
    answered: "Answered",
    closed_unanswered: "Overdue: the board did not answer",
    expired: "Closed without reaching the threshold"
  };

  function show(data) {
    if (data.event !== "count") return;
    var before = countEl.textContent;
    countEl.textContent = String(data.count);
    if (statusEl && LABELS[data.status]) statusEl.textContent = LABELS[data.status];
    if (liveEl && before !== String(data.count)) {
      liveEl.textContent = data.count + " signatures";
    }
    box.dataset.liveReady = "true";
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.addEventListener("open", function () { attempts = 0; });
    socket.addEventListener("message", function (event) {
      try { show(JSON.parse(event.data)); } catch (e) { /* ignore malformed */ }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4404) return;
      attempts += 1;
      window.setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempts)));
    });
  }

  connect();
})();
