// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // "/" focuses the page's search box (the list's own, else the top bar's).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var boxes = document.querySelectorAll("[data-hotkey='/']");
    var box = boxes[boxes.length - 1];
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });
  // Forms that change a lot ask first.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);
})();
