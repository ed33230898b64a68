/* The wall screen reloads itself every data-refresh seconds: nobody presses F5 on a duty room's wall.
   A script rather than <meta http-equiv="refresh">, so a person using the page is not interrupted
   (WCAG 2.2.1): a key, a click or a touch pauses the reloading for PAUSE ms. */
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!seconds) { return; }
  var PAUSE = 10 * 60 * 1000;
  var pausedUntil = 0;
  ["keydown", "pointerdown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { pausedUntil = Date.now() + PAUSE; }, { passive: true });
  });
  window.setInterval(function () {
    if (Date.now() >= pausedUntil && navigator.onLine !== false) { window.location.reload(); }
  }, seconds * 1000);
})();
