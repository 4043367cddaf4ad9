/* TargetPilot: sortable tables and the confirm dialog. No dependencies; htmx-aware. */
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return numeric ? -Infinity : "";
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    var value = parseFloat(raw);
    return isNaN(value) ? -Infinity : value;
  }

  function sortBy(table, header) {
    var headers = Array.prototype.slice.call(header.parentNode.children);
    var index = headers.indexOf(header);
    var numeric = header.getAttribute("data-sort-type") === "num";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) {
      return !r.hasAttribute("data-sort-fixed");
    });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x < y) return ascending ? -1 : 1;
      if (x > y) return ascending ? 1 : -1;
      return 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function initSortable(root) {
    if (!root || !root.querySelectorAll) return;
    var tables = root.matches && root.matches("table[data-sortable]") ? [root] : [];
    tables = tables.concat(Array.prototype.slice.call(root.querySelectorAll("table[data-sortable]")));
    tables.forEach(function (table) {
      if (table.hasAttribute("data-sort-ready")) return;
      table.setAttribute("data-sort-ready", "");
      Array.prototype.forEach.call(table.querySelectorAll("th[data-sort-type]"), function (th) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
        // The whole header cell sorts; the button gives keyboard users the same.
        th.addEventListener("click", function () { sortBy(table, th); });
      });
    });
  }

  function openDialog(root) {
    if (!root || !root.matches || !root.matches("[data-open-dialog]")) return;
    var dialog = root.closest("dialog");
    if (dialog && !dialog.open && dialog.showModal) dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", function () { initSortable(document); });
  document.addEventListener("htmx:load", function (event) {
    initSortable(event.detail.elt);
    openDialog(event.detail.elt);
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) closer.closest("dialog").close();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-close-dialog-after]") && elt.closest("dialog")) {
      elt.closest("dialog").close();
    }
  });
})();
