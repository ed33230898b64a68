// Staff pages' small behaviours, in a file so the Content-Security-Policy can forbid inline script.
// A <select data-autosubmit> submits its form when changed; data-autosubmit="area" first copies
// its value into the form's field of that name (the dashboards' jurisdiction picker).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.form || !select.hasAttribute("data-autosubmit")) { return; }
    var into = select.getAttribute("data-autosubmit");
    if (into && select.form.elements[into]) { select.form.elements[into].value = select.value; }
    select.form.submit();
  });
})();
