// Sorting, filtering and paging of the secrets table. The page is complete without this script for
// its first rows: it only reorders and hides the rows (one <tbody> per secret, its details inside),
// opens them for print, and, in a report of more secrets than the page holds as rows, makes the
// others from the page's JSON data block a page at a time (built with DOM calls and textContent:
// no value is ever parsed as HTML).
(function () {
  "use strict";
  var table = document.getElementById("secrets");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  var filter = document.getElementById("filter");
  var severity = document.getElementById("severity-filter");
  var rule = document.getElementById("rule-filter");
  var head = document.getElementById("head-filter");
  var status = document.getElementById("status-filter");
  var count = document.getElementById("shown-count");
  var pager = document.getElementById("pager");
  var block = document.getElementById("more-rows");
  var more = block ? JSON.parse(block.textContent) : null;
  var items = Array.prototype.slice.call(table.tBodies).map(function (node) {
    return { node: node, d: node.dataset, raw: null, text: node.textContent.toLowerCase() };
  });
  var PAGE = Math.max(items.length, 1);

  // A packed row of the data block (scanner/report/html.py, _data_block), as the dataset of a <tbody> would be.
  function fields(r) {
    return { rank: String(r[1]), severity: r[2], rule: r[3], context: r[4], status: r[5], commit: r[8],
      author: r[9], date: String(r[11]), head: r[12], path: r[13], places: String(r[14]) };
  }
  if (more) {
    more.rows.forEach(function (r) {
      var words = [r[2], r[3], r[4], r[5], r[7], r[8], r[9], r[10], r[13]];
      r[15].forEach(function (p) { words.push(p[0]); });
      r[17].forEach(function (c) { words.push(c[1], c[3]); });
      items.push({ node: null, d: fields(r), raw: r, text: words.join(" ").toLowerCase() });
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function code(text) { return el("code", text); }

  // The <tbody> of a packed row: the same cells and details as the rows the page holds as HTML.
  function build(item) {
    var r = item.raw;
    var fix = more.fixes[r[19]];
    var body = el("tbody", null, "secret");
    body.id = r[0];
    Object.keys(item.d).forEach(function (k) { body.dataset[k] = item.d[k]; });
    var main = el("tr", null, "main");
    var sev = el("td"); sev.appendChild(el("span", r[2], "sev sev-" + r[2])); main.appendChild(sev);
    var ruleCell = el("td"); ruleCell.appendChild(code(r[3])); main.appendChild(ruleCell);
    main.appendChild(el("td", r[4]));
    if (more.verified) {
      var st = el("td");
      if (r[5]) {
        st.appendChild(el("span", r[5], "status status-" + r[5]));
        r[21].forEach(function (e) { st.appendChild(document.createTextNode(" ")); var x = el("span", e, "exposes"); x.dataset.exposes = e; st.appendChild(x); });
      } else { st.textContent = "\u2014"; }
      main.appendChild(st);
    }
    var secret = el("td"); secret.appendChild(el("code", r[7], "value")); main.appendChild(secret);
    if (r[26]) { secret.appendChild(document.createTextNode(" ")); secret.appendChild(el("small", "decoded: " + r[26], "decoded")); }
    if (more.history) {
      var c = el("td"); c.appendChild(code(r[8].slice(0, 12))); main.appendChild(c);
      main.appendChild(el("td", r[9]));
      main.appendChild(el("td", r[10]));
      main.appendChild(el("td", r[12] === "yes" ? "yes" : (r[25] ? "no (unreachable)" : "no")));
    } else {
      main.appendChild(el("td", r[13], "path"));
    }
    main.appendChild(el("td", r[14], "places"));
    body.appendChild(main);
    var detail = el("tr", null, "detail");
    var cell = el("td");
    cell.colSpan = (more.history ? 9 : 6) + (more.verified ? 1 : 0);
    var details = el("details");
    var commits = r[17].length + r[18];
    details.appendChild(el("summary", fix[0] + ": " + r[14] + " place" + (r[14] !== 1 ? "s" : "") +
      (commits ? ", " + commits + " introducing commit" + (commits !== 1 ? "s" : "") : "") + ", the fix"));
    var inner = el("div", null, "detail-body");
    if (r[25]) {
      var u = el("p", null, "unreachable");
      u.appendChild(el("strong", "Unreachable:"));
      u.appendChild(document.createTextNode(" " + more.unreachable));
      inner.appendChild(u);
      body.dataset.reachable = "no";
    }
    if (r[5]) {
      var v = el("p", null, "verification");
      v.appendChild(el("strong", "Verification: " + r[5]));
      v.appendChild(document.createTextNode(" \u2014 " + r[6]));
      if (r[22]) { v.appendChild(document.createTextNode(" ")); v.appendChild(el("em", "(" + r[22] + ")")); }
      inner.appendChild(v);
    }
    if (r[15].length) {
      inner.appendChild(el("h3", more.history ? "In HEAD at" : "Found at"));
      var list = el("ul", null, "locations");
      r[15].forEach(function (p) { var li = el("li"); li.appendChild(code(p[0] + (p[1] ? ":" + p[1] + ":" + p[2] : ""))); list.appendChild(li); });
      inner.appendChild(list);
      if (r[16]) { inner.appendChild(el("p", "and " + r[16] + " more file" + (r[16] !== 1 ? "s" : "") + " (see the JSON report)")); }
    }
    if (r[17].length) {
      inner.appendChild(el("h3", "Introduced by"));
      var t = el("table", null, "commits");
      var tb = el("tbody");
      r[17].forEach(function (c) {
        var tr = el("tr");
        var first = el("td"); first.appendChild(code(c[0].slice(0, 12))); tr.appendChild(first);
        tr.appendChild(el("td", c[1])); tr.appendChild(el("td", c[2]));
        var at = el("td"); at.appendChild(code(c[3] + (c[4] ? ":" + c[4] : ""))); tr.appendChild(at);
        tr.appendChild(el("td", c[5] ? "yes" : "no"));
        tb.appendChild(tr);
      });
      t.appendChild(tb);
      inner.appendChild(t);
      if (r[18]) { inner.appendChild(el("p", "and " + r[18] + " more")); }
    }
    if (r[23] && r[23].length) {
      inner.appendChild(el("h3", "Moved to"));
      var mt = el("table", null, "commits moved");
      var mb = el("tbody");
      r[23].forEach(function (c) {
        var tr = el("tr");
        [c[0].slice(0, 12), c[1], c[2]].forEach(function (text) { var td = el("td"); td.appendChild(code(text)); tr.appendChild(td); });
        mb.appendChild(tr);
      });
      mt.appendChild(mb);
      inner.appendChild(mt);
      if (r[24]) { inner.appendChild(el("p", "and " + r[24] + " more (see the JSON report)")); }
    }
    inner.appendChild(el("h3", "Fix"));
    var steps = el("ol", null, "fix");
    var rotate = el("li"); rotate.appendChild(el("strong", "Rotate:")); rotate.appendChild(document.createTextNode(" " + fix[1]));
    if (fix[2].length) {
      rotate.appendChild(el("br")); rotate.appendChild(document.createTextNode("Where: "));
      fix[2].forEach(function (w, i) {
        var a = el("a", w[0]); a.href = w[1]; a.rel = "noreferrer noopener";
        if (i) { rotate.appendChild(document.createTextNode(", ")); }
        rotate.appendChild(a);
      });
    }
    steps.appendChild(rotate);
    if (fix[3]) { var restrict = el("li"); restrict.appendChild(el("strong", "Restrict:")); restrict.appendChild(document.createTextNode(" " + fix[3])); steps.appendChild(restrict); }
    if (r[12] !== "no") { var remove = el("li"); remove.appendChild(el("strong", "Remove:")); remove.appendChild(document.createTextNode(" " + fix[4])); steps.appendChild(remove); }
    if (fix[5]) {
      var auto = el("li"); auto.appendChild(el("strong", "Fix it:")); auto.appendChild(document.createTextNode(" "));
      auto.appendChild(code("keysentry fix")); auto.appendChild(document.createTextNode(" " + fix[5])); steps.appendChild(auto);
    }
    if (r[20].length) {
      var rewrite = el("li");
      rewrite.appendChild(el("strong", "Rewrite history"));
      rewrite.appendChild(document.createTextNode(" (it is only in the history; rotate first, then coordinate with everyone who has a clone):"));
      rewrite.appendChild(el("pre", r[20].join("\n") + "\n", "commands"));
      steps.appendChild(rewrite);
    }
    inner.appendChild(steps);
    details.appendChild(inner);
    cell.appendChild(details);
    detail.appendChild(cell);
    body.appendChild(detail);
    return body;
  }

  var shown = items;
  var page = 0;

  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    items.forEach(function (it) { if (it.node) { it.node.hidden = true; } });
    shown.slice(page * PAGE, (page + 1) * PAGE).forEach(function (it) {
      if (!it.node) { it.node = build(it); }
      it.node.hidden = false;
      table.appendChild(it.node);
    });
    count.value = shown.length + " of " + items.length + " secrets shown";
    if (pager) {
      pager.hidden = pages < 2;
      document.getElementById("page-of").value = "rows " + (shown.length ? page * PAGE + 1 : 0) + "\u2013" +
        Math.min(shown.length, (page + 1) * PAGE) + " of " + shown.length + " (page " + (page + 1) + " of " + pages + ")";
      document.getElementById("prev-page").disabled = page === 0;
      document.getElementById("next-page").disabled = page >= pages - 1;
    }
  }

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = items.filter(function (it) {
      return (!severity.value || it.d.severity === severity.value) &&
        (!rule.value || it.d.rule === rule.value) &&
        (!head || !head.value || it.d.head === head.value) &&
        (!status || !status.value || it.d.status === status.value) &&
        words.every(function (w) { return it.text.indexOf(w) !== -1; });
    });
    page = 0;
    render();
  }

  function sort(button) {
    var key = button.dataset.sort;
    var numeric = button.dataset.type === "number";
    var dir = button.dataset.dir === "asc" ? "desc" : "asc";
    Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) { delete b.dataset.dir; });
    button.dataset.dir = dir;
    var sign = dir === "asc" ? 1 : -1;
    var order = items.map(function (it, i) { return [it, i]; });
    order.sort(function (a, b) {
      var x = a[0].d[key] || "", y = b[0].d[key] || "";
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      return c !== 0 ? sign * c : a[1] - b[1];
    });
    items = order.map(function (pair) { return pair[0]; });
    apply();
  }

  controls.hidden = false;
  controls.addEventListener("submit", function (e) { e.preventDefault(); });
  [filter, severity, rule, head, status].forEach(function (e) { if (e) { e.addEventListener("input", apply); } });
  Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) {
    b.addEventListener("click", function () { sort(b); });
  });
  if (pager) {
    document.getElementById("prev-page").addEventListener("click", function () { page -= 1; render(); });
    document.getElementById("next-page").addEventListener("click", function () { page += 1; render(); });
  }
  // Print every row's places and fix, then restore what the reader had open.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { opened.forEach(function (d) { d.open = false; }); });
  apply();
})();
