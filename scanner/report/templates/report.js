// Sorting and filtering of the secrets table. The page is complete without this script: it only
// reorders and hides the rows (one <tbody> per secret, its details inside) and opens them for print.
(function () {
  "use strict";
  var table = document.getElementById("secrets");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  var rows = Array.prototype.slice.call(table.tBodies);
  var filter = document.getElementById("filter");
  var severity = document.getElementById("severity-filter");
  var rule = document.getElementById("rule-filter");
  var head = document.getElementById("head-filter");
  var status = document.getElementById("status-filter");
  var count = document.getElementById("shown-count");
  var text = rows.map(function (row) { return row.textContent.toLowerCase(); });

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = (!severity.value || row.dataset.severity === severity.value) &&
        (!rule.value || row.dataset.rule === rule.value) &&
        (!head || !head.value || row.dataset.head === head.value) &&
        (!status || !status.value || row.dataset.status === status.value) &&
        words.every(function (w) { return text[i].indexOf(w) !== -1; });
      row.hidden = !ok;
      shown += ok ? 1 : 0;
    });
    count.value = shown + " of " + rows.length + " secrets shown";
  }

  function sort(button) {
    var key = button.dataset.sort;
    var numeric = button.dataset.type === "number";
    var dir = button.dataset.dir === "asc" ? "desc" : "asc";
    Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) { delete b.dataset.dir; });
    button.dataset.dir = dir;
    var sign = dir === "asc" ? 1 : -1;
    var order = rows.map(function (row, i) { return [row, i]; });
    order.sort(function (a, b) {
      var x = a[0].dataset[key] || "", y = b[0].dataset[key] || "";
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      return c !== 0 ? sign * c : a[1] - b[1];
    });
    order.forEach(function (pair) { table.appendChild(pair[0]); });
  }

  controls.hidden = false;
  controls.addEventListener("submit", function (e) { e.preventDefault(); });
  [filter, severity, rule, head, status].forEach(function (el) { if (el) { el.addEventListener("input", apply); } });
  Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) {
    b.addEventListener("click", function () { sort(b); });
  });
  // Print every row's places and fix, then restore what the reader had open.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { opened.forEach(function (d) { d.open = false; }); });
  apply();
})();
