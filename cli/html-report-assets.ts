/**
 * The inline style sheet and script of the HTML report (`--format html`). They are constants,
 * not files, so the bundled command carries them and the report stays one self-contained file;
 * the page's Content-Security-Policy allows exactly these two texts, by their SHA-256 hashes.
 *
 * The script reads the findings from the page's `<script type="application/json">` block and
 * builds the findings table with `textContent` only — never `innerHTML` — so no text from the
 * report is ever parsed as HTML. Its row layout is `FindingRow` in cli/format-html.ts.
 */

/** The page's style sheet. No fonts, images or imports: nothing outside the file. */
export const REPORT_STYLE = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; --card: #ffffff;
  --ok: #2f7d4f; --ok-bar: #5b8fd9; --bad: #b3261e; --bad-bar: #d9534f; --warn: #a15c00; --na: #6b6f78; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 22px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.sub { color: var(--muted); margin: 0 0 14px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 0 0 16px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 0 0 16px; }
.cols > section { margin: 0; }
@media (max-width: 860px) { .cols { grid-template-columns: 1fr; } }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td { unicode-bidi: isolate; overflow-wrap: break-word; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .n { display: block; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .n.word { font-size: 17px; padding: 5px 0 4px; }
.card .l { color: var(--muted); font-size: 12.5px; }
.card.bad .n { color: var(--bad); }
.card.ok .n { color: var(--ok); }
.card.warn .n { color: var(--warn); }
.note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
.chart { width: 100%; height: auto; display: block; }
.chart .bar-ok { fill: var(--ok-bar); }
.chart .bar-over { fill: var(--bad-bar); }
.chart .axis { stroke: #8a93a5; stroke-width: 1; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .limit { stroke: var(--bad); stroke-width: 2; stroke-dasharray: 6 4; }
.chart text { fill: var(--ink); font-size: 11px; }
.chart .tick { fill: var(--muted); font-size: 10.5px; }
.chart .limit-label { fill: var(--bad); font-weight: 600; font-size: 12px; }
.legend { display: flex; gap: 18px; color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.swatch.ok { background: var(--ok-bar); }
.swatch.over { background: var(--bad-bar); }
.swatch.limit { background: var(--bad); height: 3px; vertical-align: 3px; }
.due-counts { display: flex; gap: 10px; margin-bottom: 10px; }
.due-counts .card { flex: 1; }
.v-NON_COMPLIANT { color: var(--bad); font-weight: 600; }
.v-COMPLIANT { color: var(--ok); }
.v-EXEMPT, .v-NOT_APPLICABLE { color: var(--na); }
.a-deactivate, .a-delete, .a-clear-record { font-weight: 600; }
.bad-text { color: var(--bad); font-weight: 600; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 10px; }
.controls input[type=search] { flex: 1 1 260px; padding: 6px 8px; border: 1px solid var(--line); border-radius: 5px; font: inherit; }
.controls select, .controls button, #more { padding: 6px 8px; border: 1px solid var(--line); border-radius: 5px; background: #fff; font: inherit; }
#findings-count { color: var(--muted); }
#findings th button { all: unset; cursor: pointer; font-weight: 600; }
#findings th button:focus-visible { outline: 2px solid var(--ok-bar); }
#findings th[aria-sort=ascending] button::after { content: " \\25B2"; font-size: 10px; }
#findings th[aria-sort=descending] button::after { content: " \\25BC"; font-size: 10px; }
#findings thead th { position: sticky; top: 0; background: var(--card); }
#findings td.reason { color: var(--muted); min-width: 180px; }
#findings td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
#more { margin-top: 10px; }
.hidden { display: none; }
.nw { white-space: nowrap; }
td.user { min-width: 9em; }
#due-table td:not(.user) { white-space: nowrap; }
footer { color: var(--muted); font-size: 12.5px; padding-bottom: 28px; }
@media print { .controls, #more { display: none; } section { break-inside: avoid; } #findings thead th { position: static; } }
`;

/**
 * The page's script: sorting and filtering of the findings table. Vanilla, no library; every
 * cell is filled with `textContent`. It decodes the compact rows of the data block
 * (`FindingRow` in cli/format-html.ts: texts as indexes into `strings`, reasons as parts joined
 * with the row's key ID) into one object per row, once.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('keyage-data').textContent);
  var strings = data.strings, accounts = data.accounts;
  function text(i) { return i === null ? null : strings[i]; }
  var rows = data.rows.map(function (r) {
    return {
      account: accounts && r[0] !== null ? accounts[r[0]] : null,
      user: text(r[1]), slot: r[2], key: r[3], status: text(r[4]), age: r[5], due: r[6], last: text(r[7]),
      verdict: text(r[8]), action: text(r[9]), reason: data.reasons[r[10]].join(r[3] === null ? '' : r[3])
    };
  });
  var PAGE = 500;
  var table = document.getElementById('findings');
  var body = table.tBodies[0];
  var search = document.getElementById('findings-search');
  var filter = document.getElementById('findings-filter');
  var count = document.getElementById('findings-count');
  var more = document.getElementById('more');
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  var state = { col: -1, dir: 1, limit: PAGE };

  function dueText(r) {
    if (r.status !== 'Active' || r.due === null) return '';
    return r.due > 0 ? 'in ' + r.due + ' d' : 'overdue';
  }
  function keyText(r) { return r.key !== null ? r.key : (r.slot !== null ? '\\u2014' : ''); }

  var haystacks = [];
  function haystack(i) {
    var h = haystacks[i];
    if (h === undefined) {
      var r = rows[i];
      h = [r.account ? r.account.id : '', r.account ? r.account.name : '', r.user, r.key || '', r.status || '', r.verdict, r.action, r.last || '', r.reason].join('\\n').toLowerCase();
      haystacks[i] = h;
    }
    return h;
  }

  function dueWithin(days) {
    return function (r) { return r.status === 'Active' && r.verdict === 'COMPLIANT' && r.due !== null && r.due > 0 && r.due <= days; };
  }
  var FILTERS = {
    all: function () { return true; },
    findings: function (r) { return r.verdict === 'NON_COMPLIANT'; },
    due7: dueWithin(7),
    due30: dueWithin(30),
    exempt: function (r) { return r.verdict === 'EXEMPT' || r.verdict === 'NOT_APPLICABLE'; },
    actions: function (r) { return r.action !== 'none'; }
  };

  // Sort keys by the header's data-col: text or number; empty values last in either direction.
  var COLUMNS = {
    account: { type: 'text', get: function (r) { return r.account ? r.account.id + ' ' + r.account.name : null; } },
    user: { type: 'text', get: function (r) { return r.user; } },
    slot: { type: 'num', get: function (r) { return r.slot; } },
    key: { type: 'text', get: function (r) { return r.key; } },
    status: { type: 'text', get: function (r) { return r.status; } },
    age: { type: 'num', get: function (r) { return r.age; } },
    due: { type: 'num', get: function (r) { return r.status === 'Active' ? r.due : null; } },
    last: { type: 'text', get: function (r) { return r.last; } },
    verdict: { type: 'text', get: function (r) { return r.verdict; } },
    action: { type: 'text', get: function (r) { return r.action; } },
    reason: { type: 'text', get: function (r) { return r.reason; } }
  };
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);

  function compare(column, dir) {
    return function (i, j) {
      var a = column.get(rows[i]), b = column.get(rows[j]);
      var aEmpty = a === null || a === undefined, bEmpty = b === null || b === undefined;
      if (aEmpty || bEmpty) return aEmpty && bEmpty ? i - j : (aEmpty ? 1 : -1);
      var c = column.type === 'num' ? a - b : collator.compare(a, b);
      return c !== 0 ? c * dir : i - j;
    };
  }

  function cell(tr, value, cls) {
    var td = document.createElement('td');
    td.textContent = value === null || value === undefined ? '' : String(value);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  var VERDICT_CLASS = { NON_COMPLIANT: 'v-NON_COMPLIANT', COMPLIANT: 'v-COMPLIANT', EXEMPT: 'v-EXEMPT', NOT_APPLICABLE: 'v-NOT_APPLICABLE' };
  var ACTION_CLASS = { deactivate: 'a-deactivate', 'delete': 'a-delete', 'clear-record': 'a-clear-record' };

  function render() {
    var q = search.value.trim().toLowerCase();
    var keep = FILTERS[filter.value] || FILTERS.all;
    var order = [];
    for (var i = 0; i < rows.length; i++) {
      if (keep(rows[i]) && (q === '' || haystack(i).indexOf(q) !== -1)) order.push(i);
    }
    if (state.col >= 0) order.sort(compare(COLUMNS[headers[state.col].getAttribute('data-col')], state.dir));
    var frag = document.createDocumentFragment();
    var shown = Math.min(order.length, state.limit);
    for (var k = 0; k < shown; k++) {
      var r = rows[order[k]], tr = document.createElement('tr');
      if (accounts) cell(tr, r.account ? r.account.id : '', 'mono');
      cell(tr, r.user, 'user');
      cell(tr, r.slot, 'num');
      cell(tr, keyText(r), 'mono');
      cell(tr, r.status, 'nw');
      cell(tr, r.age, 'num age');
      cell(tr, dueText(r), 'num nw');
      cell(tr, r.last, 'nw');
      cell(tr, r.verdict, 'nw ' + (VERDICT_CLASS[r.verdict] || ''));
      cell(tr, r.action, 'nw ' + (ACTION_CLASS[r.action] || ''));
      cell(tr, r.reason, 'reason');
      frag.appendChild(tr);
    }
    body.textContent = '';
    if (shown === 0) {
      var empty = document.createElement('tr');
      var td = document.createElement('td');
      td.colSpan = headers.length;
      td.textContent = rows.length === 0 ? 'No rows: the report has no IAM users.' : 'No row matches the filter.';
      empty.appendChild(td);
      frag.appendChild(empty);
    }
    body.appendChild(frag);
    count.textContent = 'Showing ' + shown + ' of ' + order.length + ' matching row' + (order.length === 1 ? '' : 's') + ' (' + rows.length + ' in all).';
    count.setAttribute('data-shown', String(shown));
    count.setAttribute('data-matching', String(order.length));
    more.textContent = 'Show ' + Math.min(PAGE, order.length - shown) + ' more (' + (order.length - shown) + ' not shown)';
    more.className = order.length > shown ? '' : 'hidden';
  }

  headers.forEach(function (th, index) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      state.dir = state.col === index ? -state.dir : 1;
      state.col = index;
      headers.forEach(function (h, j) { h.setAttribute('aria-sort', j === index ? (state.dir === 1 ? 'ascending' : 'descending') : 'none'); });
      render();
    });
  });
  search.addEventListener('input', function () { state.limit = PAGE; render(); });
  filter.addEventListener('change', function () { state.limit = PAGE; render(); });
  more.addEventListener('click', function () { state.limit += PAGE; render(); });
  document.getElementById('findings-controls').classList.remove('hidden');
  render();
})();
`;
