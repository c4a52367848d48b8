/* TPM — small progressive enhancements. Loaded with defer; no inline handlers (CSP). */
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  // Close the user menu on Escape (returning focus to its toggle) and on outside click.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.usermenu[open]");
    if (!open) return;
    open.removeAttribute("open");
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.usermenu") : null);
  });

  // Once an htmx swap has settled, focus the first [autofocus] element of the new content.
  // Not earlier: until htmx has processed the new nodes a key press on the focused control
  // would submit its form natively (a full page load) instead of over htmx.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail && event.detail.target ? event.detail.target : event.target;
    if (!root || !root.querySelector) return;
    // An outerHTML swap detaches the old target: look in the element that replaced it.
    if (!root.isConnected && root.id) root = document.getElementById(root.id) || root;
    var el = root.matches && root.matches("[autofocus]") ? root : root.querySelector("[autofocus]");
    if (el && typeof el.focus === "function") el.focus();
  });

  // Keep <details> (chart data tables) open across a swap that re-renders them.
  var openDetails = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    openDetails = target && target.querySelectorAll
      ? Array.prototype.map.call(target.querySelectorAll("details[open][id]"), function (d) { return d.id; })
      : [];
  });
  document.addEventListener("htmx:afterSettle", function () {
    openDetails.forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.setAttribute("open", "");
    });
    openDetails = [];
  });

  // Copy buttons: <button data-copy-target="#id">Copy</button>
  document.addEventListener("click", function (event) {
    var btn = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (!btn) return;
    var target = document.querySelector(btn.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    event.preventDefault();
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      if (!btn.dataset.label) btn.dataset.label = btn.textContent;
      btn.textContent = "Copied";
      clearTimeout(btn._copyTimer);
      btn._copyTimer = setTimeout(function () { btn.textContent = btn.dataset.label; }, 1500);
    });
  });
})();
