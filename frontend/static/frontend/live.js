/* Live updates over the /ws/feed/ websocket, with a polling fallback.
 *
 * Home: a new post from someone followed shows an "N new posts — show" button
 * in a polite status region; posts are never inserted until the reader asks.
 * Thread: reaction and reply counts update in place.
 * If the socket closes, reconnect with backoff and poll every 30 s meanwhile,
 * so a missing Redis only makes updates slower, never absent.
 */
(function () {
  "use strict";

  var list = document.querySelector("[data-live]");
  if (!list || !("WebSocket" in window)) return;

  var mode = list.dataset.live;
  var POLL_MS = 30000;
  var MAX_BACKOFF_MS = 30000;
  var CLOSE_UNAUTHENTICATED = 4401;
  var COUNT_KEYS = ["like_count", "reply_count", "helpful_count", "unhelpful_count"];
  var status = document.getElementById(mode === "home" ? "new-posts" : "thread-status");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var wsUrl = scheme + window.location.host + list.dataset.wsPath;

  var socket = null;
  var attempts = 0;
  var pollTimer = null;
  var retryTimer = null;

  // Home state: ids announced over the socket, and the last polled count.
  var announced = {};
  var announcedCount = 0;
  var polledCount = 0;
  var newReplies = 0;

  function shownIds() {
    var ids = {};
    list.querySelectorAll("article.post[data-post-id]").forEach(function (a) {
      ids[a.dataset.postId] = true;
    });
    return ids;
  }

  // Banner --------------------------------------------------------------------
  function renderBanner(count, label) {
    if (count <= 0) {
      status.textContent = "";
      return;
    }
    var button = status.querySelector("button");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "new-posts-button";
      button.addEventListener("click", mode === "home" ? showNewPosts : showNewReplies);
      status.appendChild(button);
    }
    button.textContent = label(count);
  }

  function homeLabel(count) {
    var n = count > 99 ? "99+" : String(count);
    return n + (count === 1 ? " new post" : " new posts") + " — show";
  }

  function replyLabel(count) {
    return count + (count === 1 ? " new reply" : " new replies") + " — show";
  }

  function updateHomeBanner() {
    renderBanner(Math.max(announcedCount, polledCount), homeLabel);
  }

  function markAndFocusNew(before) {
    var first = null;
    list.querySelectorAll("article.post[data-post-id]").forEach(function (a) {
      if (!before[a.dataset.postId]) {
        a.classList.add("is-new");
        if (!first) first = a;
      }
    });
    var target = first || list.querySelector("article.post");
    if (target) target.focus();
  }

  function showNewPosts() {
    var before = shownIds();
    fetch(list.dataset.feedUrl, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var marker = response.headers.get("X-Feed-Marker");
        if (marker !== null) list.dataset.since = marker;
        return response.text();
      })
      .then(function (html) {
        list.innerHTML = html;
        if (window.htmx) window.htmx.process(list);
        announced = {};
        announcedCount = 0;
        polledCount = 0;
        status.textContent = "";
        markAndFocusNew(before);
      })
      .catch(function () {
        status.textContent = "Couldn't load new posts. Reload the page to see them.";
      });
  }

  function showNewReplies() {
    var before = shownIds();
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("thread-list");
        if (!fresh) throw new Error("no thread in response");
        list.innerHTML = fresh.innerHTML;
        if (window.htmx) window.htmx.process(list);
        newReplies = 0;
        status.textContent = "";
        markAndFocusNew(before);
      })
      .catch(function () {
        status.textContent = "Couldn't load new replies. Reload the page to see them.";
      });
  }

  // Counts ----------------------------------------------------------------------
  function setCounts(postId, counts) {
    COUNT_KEYS.forEach(function (key) {
      if (typeof counts[key] !== "number") return;
      list.querySelectorAll('[data-post="' + postId + '"][data-count="' + key + '"]').forEach(
        function (el) {
          el.textContent = String(counts[key]);
        }
      );
    });
  }

  function bumpUnreadBadge() {
    var link = document.querySelector("a[data-notifications-link]");
    if (!link) return;
    var badge = link.querySelector("[data-unread-badge]");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      badge.setAttribute("data-unread-badge", "");
      badge.innerHTML = '0<span class="visually-hidden"> unread</span>';
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    var current = parseInt(badge.firstChild.nodeValue, 10) || 0;
    badge.firstChild.nodeValue = String(current + 1);
  }

  // Messages ---------------------------------------------------------------------
  function onMessage(event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!data || typeof data !== "object") return;
    if (data.event === "watching") {
      list.setAttribute("data-live-state", "watching");
    } else if (data.event === "notification") {
      bumpUnreadBadge();
    } else if (mode === "home" && data.event === "new_post") {
      // One's own posts are inserted by the compose form, not announced.
      if (data.author && data.author === list.dataset.me) return;
      var id = String(data.post_id);
      if (!announced[id] && !shownIds()[id]) {
        announced[id] = true;
        announcedCount += 1;
        updateHomeBanner();
      }
    } else if (mode === "thread" && data.event === "counts") {
      setCounts(data.post_id, data);
    } else if (mode === "thread" && (data.event === "thread_reply" || data.event === "reply")) {
      setCounts(data.parent_id, { reply_count: data.reply_count });
      // One's own reply arrives over the socket too; give its htmx insert a moment.
      window.setTimeout(function () {
        if (!shownIds()[String(data.post_id)]) {
          newReplies += 1;
          renderBanner(newReplies, replyLabel);
        }
      }, 1000);
    }
  }

  // Polling fallback ----------------------------------------------------------------
  function pollOnce() {
    var url = list.dataset.pollUrl;
    if (mode === "home") url += "?since=" + encodeURIComponent(list.dataset.since || "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (mode === "home") {
          polledCount = data.count || 0;
          updateHomeBanner();
          return;
        }
        var shown = shownIds();
        var unseen = 0;
        Object.keys(data.posts || {}).forEach(function (postId) {
          if (shown[postId]) setCounts(postId, data.posts[postId]);
          else unseen += 1;
        });
        if (unseen > 0) {
          newReplies = unseen;
          renderBanner(newReplies, replyLabel);
        }
      })
      .catch(function () {
        /* Offline: the next tick tries again. */
      });
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = window.setInterval(pollOnce, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) {
      window.clearInterval(pollTimer);
      pollTimer = null;
    }
  }

  // Socket --------------------------------------------------------------------------
  function scheduleReconnect() {
    if (retryTimer !== null) return;
    // Exponential backoff with jitter, so a restarted server isn't stampeded.
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
    attempts += 1;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    try {
      socket = new WebSocket(wsUrl);
    } catch (e) {
      startPolling();
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      list.setAttribute("data-live-state", "connected");
      var wasRetry = attempts > 0;
      attempts = 0;
      stopPolling();
      if (mode === "thread") {
        socket.send(JSON.stringify({ action: "watch_thread", post_id: Number(list.dataset.rootId) }));
      }
      // Catch up on anything that happened while disconnected.
      if (wasRetry) pollOnce();
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      socket = null;
      list.setAttribute("data-live-state", "polling");
      // 4401: the session ended. Reconnecting or polling would only fail again.
      if (event.code === CLOSE_UNAUTHENTICATED) return;
      startPolling();
      scheduleReconnect();
    });
  }

  window.addEventListener("pagehide", function () {
    if (socket) socket.close();
  });

  connect();
})();
