/* Small page enhancements shared by every page. Everything works without it. */
(function () {
  "use strict";

  // Character counter for the compose box: quiet text, no live announcements
  // while typing; the limit itself is enforced by maxlength and the server.
  function updateCounter(textarea) {
    var target = document.getElementById(textarea.dataset.counter);
    if (!target) return;
    var max = parseInt(textarea.getAttribute("maxlength"), 10) || 500;
    var used = textarea.value.length;
    if (used === 0) {
      target.textContent = "Up to " + max + " characters. Links and @mentions become clickable.";
    } else {
      target.textContent = used + " of " + max + " characters";
    }
  }
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el instanceof HTMLTextAreaElement && el.dataset.counter) updateCounter(el);
  });

  // "Load more": move keyboard focus to the first newly loaded post, so keyboard
  // and screen-reader users continue where the new items begin.
  var lastBeforeLoad = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-load-more")) {
      var li = elt.closest("li");
      lastBeforeLoad = li ? li.previousElementSibling : null;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!lastBeforeLoad) return;
    var next = lastBeforeLoad.nextElementSibling;
    lastBeforeLoad = null;
    var article = next && next.querySelector("article.post");
    if (article) article.focus();
  });

  // Network failures: say so instead of failing silently.
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail && event.detail.elt;
    var place = elt && elt.closest ? elt.closest(".post-actions, form, li") : null;
    if (!place) return;
    var note = place.querySelector(".action-error") || document.createElement("p");
    note.className = "action-error";
    note.setAttribute("role", "alert");
    note.textContent = "Couldn't reach the server. Check your connection and try again.";
    place.appendChild(note);
  });
})();
