/* Drag and drop for the backlog (re-rank) and the board (move a card to a status).
   Progressive enhancement: keyboard move buttons and status menus do the same without it.
   Requests go through htmx.ajax so the server's fragment replaces the list or the board. */
(function () {
  "use strict";
  var dragged = null;

  function csrf() {
    var el = document.querySelector("[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function post(url, values, target) {
    values.csrfmiddlewaretoken = csrf();
    window.htmx.ajax("POST", url, { target: target, swap: "outerHTML", values: values });
  }

  document.addEventListener("dragstart", function (event) {
    var el = event.target.closest && event.target.closest("[draggable=true][data-key]");
    if (!el) return;
    dragged = el;
    el.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", el.dataset.key);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    document.querySelectorAll(".drop-before, .drop-after, .drop-target").forEach(function (el) {
      el.classList.remove("drop-before", "drop-after", "drop-target");
    });
    dragged = null;
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var row = event.target.closest && event.target.closest(".backlog__row");
    var column = event.target.closest && event.target.closest(".board__column");
    if (row && dragged.classList.contains("backlog__row") && row !== dragged &&
        row.parentNode === dragged.parentNode) {
      event.preventDefault();
      var box = row.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      row.classList.toggle("drop-after", after);
      row.classList.toggle("drop-before", !after);
    } else if (column && dragged.classList.contains("board__card")) {
      event.preventDefault();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("dragleave", function (event) {
    var el = event.target.closest && event.target.closest(".backlog__row, .board__column");
    if (el && !el.contains(event.relatedTarget)) el.classList.remove("drop-before", "drop-after", "drop-target");
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var row = event.target.closest && event.target.closest(".backlog__row");
    var column = event.target.closest && event.target.closest(".board__column");
    if (row && dragged.classList.contains("backlog__row") && row !== dragged) {
      event.preventDefault();
      var body = document.getElementById("backlog-body");
      var values = { item: dragged.dataset.key };
      if (row.classList.contains("drop-after")) values.after = row.dataset.key;
      else values.before = row.dataset.key;
      post(body.dataset.rankUrl, values, "#backlog-body");
    } else if (column && dragged.classList.contains("board__card")) {
      event.preventDefault();
      if (column.dataset.status && !column.contains(dragged)) {
        post("/items/" + dragged.dataset.key + "/status/",
             { status: column.dataset.status, version: dragged.dataset.version }, "#board-body");
      }
    }
  });
})();
