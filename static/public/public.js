/* 街巷通 residents' pages: small enhancements only; every page works without this file.
   All text comes from data-* attributes rendered by the templates (translated there). */
(function () {
  "use strict";
  var d = document;
  function one(sel) { return d.querySelector(sel); }
  function each(sel, fn) { Array.prototype.forEach.call(d.querySelectorAll(sel), fn); }
  function fill(text, value) { return String(text || "").replace("%n", value); }

  // A redisplayed form: move focus to the summary so screen readers read what to fix.
  var summary = one("#error-summary") || one("#notice");
  if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }

  // Photos: previews, and the count/size checks before a slow upload starts.
  var photos = one("#id_photos");
  if (photos) {
    var max = +photos.getAttribute("data-max"), maxBytes = +photos.getAttribute("data-max-bytes");
    var box = one("#photo-previews"), status = one("#photo-status");
    photos.addEventListener("change", function () {
      var files = Array.prototype.slice.call(photos.files || []), kept = [], notes = [];
      files.forEach(function (f) {
        if (f.size > maxBytes) { notes.push(fill(photos.getAttribute("data-msg-big"), f.name)); }
        else if (kept.length >= max) {
          var many = photos.getAttribute("data-msg-many");
          if (notes.indexOf(many) < 0) { notes.push(many); }
        } else { kept.push(f); }
      });
      if (kept.length !== files.length && window.DataTransfer) {
        try {
          var dt = new DataTransfer();
          kept.forEach(function (f) { dt.items.add(f); });
          photos.files = dt.files;
        } catch (e) { /* older browsers: the server refuses them with the same message */ }
      }
      box.textContent = "";
      kept.forEach(function (f, i) {
        var img = d.createElement("img");
        img.alt = fill(photos.getAttribute("data-msg-preview"), i + 1);
        img.src = URL.createObjectURL(f);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
      if (kept.length) { notes.push(fill(photos.getAttribute("data-msg-count"), kept.length)); }
      status.textContent = notes.join(" ");
    });
  }

  // Description: a running count against the limit.
  var desc = one("#id_description"), count = one("#desc-count");
  if (desc && count) {
    var limit = desc.getAttribute("maxlength");
    var show = function () { count.textContent = fill(count.getAttribute("data-msg"), desc.value.length) + " / " + limit; };
    desc.addEventListener("input", show);
    show();
  }

  // Categories that need a phone number: mark the phone field required as soon as one is chosen.
  var phone = one("#id_reporter_phone"), other = one("#id_other_category");
  if (phone) {
    var mark = one("#phone-required");
    var update = function () {
      var picked = one("input[name=category]:checked"), need = false;
      if (picked && picked.value === "other" && other) {
        var opt = other.options[other.selectedIndex];
        need = !!(opt && opt.hasAttribute("data-contact"));
      } else if (picked) { need = picked.hasAttribute("data-contact"); }
      mark.hidden = !need;
      if (need) { phone.setAttribute("aria-required", "true"); } else { phone.removeAttribute("aria-required"); }
    };
    each("input[name=category]", function (r) { r.addEventListener("change", update); });
    if (other) {
      other.addEventListener("change", function () {
        var radio = one("input[name=category][value=other]");
        if (other.value && radio) { radio.checked = true; }
        update();
      });
    }
    update();
  }

  // Location from the phone, only when the resident asks for it.
  var geo = one("#geo-button");
  if (geo && navigator.geolocation) {
    geo.hidden = false;
    geo.addEventListener("click", function () {
      var st = one("#geo-status");
      st.textContent = geo.getAttribute("data-msg-wait");
      navigator.geolocation.getCurrentPosition(function (p) {
        one("#id_latitude").value = p.coords.latitude.toFixed(6);
        one("#id_longitude").value = p.coords.longitude.toFixed(6);
        one("#id_share_location").checked = true;
        st.textContent = fill(geo.getAttribute("data-msg-ok"), Math.round(p.coords.accuracy));
      }, function () { st.textContent = geo.getAttribute("data-msg-fail"); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    var share = one("#id_share_location");
    share.addEventListener("change", function () {
      if (!share.checked) { one("#id_latitude").value = ""; one("#id_longitude").value = ""; }
    });
  }

  // Submit once: after the first tap the button says it is sending and further taps do nothing.
  // The server's one-time token is the guarantee (a repeat gets the first case's receipt); this
  // only spares the resident the wait. A stalled upload frees the button again after a while,
  // and so does coming back to the page (the back button may restore it as it was left).
  each("form[data-once]", function (form) {
    // Back from the receipt, the browser fetches the form anew (it is never cached), with a new
    // token, yet puts back what was typed. The history entry keeps the token its page was first
    // given, so sending that text again gives the first receipt, not a second case.
    var token = form.querySelector("[data-once-token]");
    if (token && window.history && history.replaceState) {
      var state = history.state;
      if (state && state.once) { token.value = state.once; }
      else if (state === null) {
        try { history.replaceState({ once: token.value }, ""); }
        catch (e) { /* no history state: the server still stops repeats of the same page */ }
      }
    }
    var button = form.querySelector("button[type=submit]"), sent = false, timer = 0;
    if (!button) { return; }
    var label = button.textContent;
    var release = function () {
      sent = false;
      clearTimeout(timer);
      button.disabled = false;
      button.textContent = label;
    };
    form.addEventListener("submit", function (e) {
      if (sent) { e.preventDefault(); return; }
      sent = true;
      // Disabled after this event has run its course: the submission it started goes ahead.
      setTimeout(function () {
        if (sent) { button.disabled = true; button.textContent = button.getAttribute("data-msg-wait"); }
      }, 0);
      timer = setTimeout(release, 20000);
    });
    window.addEventListener("pageshow", function (e) { if (e.persisted) { release(); } });
  });

  // Keep the tracking code: copy and print.
  each("[data-copy]", function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = btn.getAttribute("data-copy"), st = one("#copy-status");
      var ok = function () { st.textContent = btn.getAttribute("data-msg-ok"); };
      var fallback = function () {
        var t = d.createElement("textarea");
        t.value = text; t.setAttribute("readonly", ""); t.style.position = "fixed"; t.style.opacity = "0";
        d.body.appendChild(t); t.select();
        var done = false;
        try { done = d.execCommand("copy"); } catch (e) { done = false; }
        d.body.removeChild(t);
        st.textContent = btn.getAttribute(done ? "data-msg-ok" : "data-msg-fail");
      };
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(ok, fallback); }
      else { fallback(); }
    });
  });
  each("[data-print]", function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () { window.print(); });
  });
})();
