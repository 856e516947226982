// The Search page: runs a query over a time range with POST /api/v1/search
// and shows its rows or messages. The links in monitor and scheduled-search
// alerts ({{QueryURL}}) open it with the query and the alert's time range
// in the address (query, from, to), and it runs at once.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, formatDateTime } from './ui.js';

const session = await startPage();

const form = $('#search-form');
const queryEl = $('#query');
const queryError = $('#query-error');
const range = $('#range');
const status = $('#status');
const pageError = $('#page-error');
const table = $('#results');
const columns = $('#columns');
const rows = $('#rows');

const spans = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
let linked = null; // {from, to} given in the address

if (!can(session, 'viewMonitors')) {
  form.hidden = true;
  setMessage(pageError, 'Your roles do not include View Monitors, which searching needs. Ask an administrator for a role with it.');
} else {
  const params = new URLSearchParams(location.search);
  queryEl.value = params.get('query') || '';
  const from = params.get('from');
  const to = params.get('to');
  if (from && to && !Number.isNaN(Date.parse(from)) && !Number.isNaN(Date.parse(to))) {
    linked = { from, to };
    const opt = range.querySelector('option[value="custom"]');
    opt.hidden = false;
    opt.textContent = `${formatDateTime(from)} to ${formatDateTime(to)}`;
    range.value = 'custom';
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  if (queryEl.value) run();
}

function timeRange() {
  if (range.value === 'custom' && linked) return linked;
  const to = new Date();
  return { from: new Date(to.getTime() - spans[range.value]).toISOString(), to: to.toISOString() };
}

async function run() {
  setMessage(queryError, '');
  setMessage(pageError, '');
  queryEl.removeAttribute('aria-invalid');
  const address = new URLSearchParams({ query: queryEl.value });
  if (range.value === 'custom' && linked) {
    address.set('from', linked.from);
    address.set('to', linked.to);
  }
  history.replaceState(null, '', '?' + address.toString());
  status.textContent = 'Searching…';
  try {
    const res = await api('POST', '/api/v1/search', { query: queryEl.value, ...timeRange() });
    show(res);
  } catch (err) {
    status.textContent = '';
    table.hidden = true;
    const problem = err.errors.find((p) => p.field === 'query');
    if (problem) {
      setMessage(queryError, problem.message);
      queryEl.setAttribute('aria-invalid', 'true');
      queryEl.focus();
    } else {
      setMessage(pageError, err.message);
    }
  }
}

function show(res) {
  clear(columns);
  clear(rows);
  let n;
  if (res.aggregate) {
    for (const c of res.columns) columns.append(h('th', { scope: 'col', text: c }));
    for (const r of res.rows) rows.append(h('tr', null, res.columns.map((c) => h('td', { text: r[c] ?? '' }))));
    n = res.rows.length;
  } else {
    columns.append(h('th', { scope: 'col', text: 'Time' }), h('th', { scope: 'col', text: 'Message' }));
    for (const m of res.messages) {
      rows.append(h('tr', null, h('td', { class: 'nowrap', text: formatDateTime(m.time) }), h('td', { class: 'message', text: m.message })));
    }
    n = res.messages.length;
  }
  table.hidden = n === 0;
  const what = res.aggregate ? (n === 1 ? 'row' : 'rows') : (n === 1 ? 'message' : 'messages');
  status.textContent = `${n} ${what}${res.truncated ? ' (more were left out)' : ''}; ${res.matched} of ${res.scanned} records matched, in ${res.tookMs} ms.`;
}
