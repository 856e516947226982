// The Deliveries page: recent deliveries with their state, attempts and
// timings, filtered by connection and outcome; a retry for failed and dead
// ones; and a chart of deliveries over time by outcome.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, badge, timeEl, statusLine, formatMs, formatDateTime, formatClock, debounce } from './ui.js';
import { drawChart, summarize } from './chart.js';

const session = await startPage();
const mayView = can(session, 'viewAlerts');
const mayRetry = can(session, 'manageConnections');
const mayConnections = can(session, 'viewConnections');

const status = $('#status');
const pageError = $('#page-error');
const loading = $('#list-loading');
const empty = $('#list-empty');
const table = $('#list');
const rows = $('#rows');
const more = $('#more');
const connFilter = $('#filter-connection');
const stateFilter = $('#filter-state');
const range = $('#range');
const svg = $('#chart');
const summary = $('#chart-summary');

const ranges = {
  '1h': { span: 3600e3, bucket: '5m', bucketMs: 300e3, withDay: false },
  '24h': { span: 86400e3, bucket: '1h', bucketMs: 3600e3, withDay: false },
  '7d': { span: 7 * 86400e3, bucket: '6h', bucketMs: 6 * 3600e3, withDay: true },
};

let names = new Map(); // connection ID → name
let alertFilter = ''; // an alert's ID, from the alerts page's links
let deliveries = [];
let nextToken = null;
let lastStats = null;
const expanded = new Set();
let listSeq = 0; // of the newest list request

function say(text) {
  status.textContent = text;
}

if (!mayView) {
  loading.hidden = true;
  for (const el of document.querySelectorAll('.chart-card, #filters, #refresh')) el.hidden = true;
  setMessage(pageError, 'Your roles do not include View Alerts, so deliveries cannot be shown. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  const params = new URLSearchParams(location.search);
  const state = params.get('state') || '';
  if ([...stateFilter.options].some((o) => o.value === state)) stateFilter.value = state;
  setAlertFilter(params.get('alertId') || '');
  $('#alert-filter-clear').addEventListener('click', () => {
    setAlertFilter('');
    filtersChanged();
  });
  await loadNames(params.get('connectionId') || '');
  connFilter.addEventListener('change', filtersChanged);
  stateFilter.addEventListener('change', filtersChanged);
  range.addEventListener('change', loadChart);
  $('#refresh').addEventListener('click', () => {
    loadChart();
    loadList();
  });
  more.addEventListener('click', () => loadList(nextToken));
  window.addEventListener('resize', debounce(() => lastStats && draw(lastStats), 150));
  await Promise.all([loadChart(), loadList()]);
}

// loadNames fills the connection filter; without View Connections only an
// ID given in the address can be chosen, and rows show IDs.
async function loadNames(selected) {
  if (mayConnections) {
    try {
      const res = await api('GET', '/api/v1/connections?limit=1000');
      for (const c of res.data || []) names.set(c.id, c.name);
    } catch (err) {
      setMessage(pageError, `Connection names could not be loaded: ${err.message}`);
    }
  }
  const sorted = [...names].sort((a, b) => a[1].localeCompare(b[1]));
  for (const [id, name] of sorted) connFilter.append(h('option', { value: id }, name));
  if (selected && !names.has(selected)) connFilter.append(h('option', { value: selected }, selected));
  connFilter.value = selected;
  $('#connection-filter-field').hidden = !mayConnections && !selected;
}

function setAlertFilter(id) {
  alertFilter = id;
  $('#alert-filter-id').textContent = id;
  $('#alert-filter').hidden = !id;
}

function filtersChanged() {
  const q = new URLSearchParams();
  if (alertFilter) q.set('alertId', alertFilter);
  if (connFilter.value) q.set('connectionId', connFilter.value);
  if (stateFilter.value) q.set('state', stateFilter.value);
  const qs = q.toString();
  history.replaceState(null, '', '/ui/deliveries' + (qs ? '?' + qs : ''));
  loadList();
}

// --- chart ------------------------------------------------------------------

async function loadChart() {
  const r = ranges[range.value] || ranges['24h'];
  const since = new Date(Math.floor((Date.now() - r.span) / r.bucketMs) * r.bucketMs + r.bucketMs);
  const q = new URLSearchParams({ since: since.toISOString().replace(/\.\d+Z$/, 'Z'), bucket: r.bucket });
  try {
    const res = await api('GET', `/api/v1/deliveries/stats?${q}`);
    lastStats = { buckets: res.buckets || [], r };
    draw(lastStats);
  } catch (err) {
    lastStats = null;
    while (svg.firstChild) svg.firstChild.remove();
    svg.classList.add('empty');
    summary.textContent = `Chart unavailable: ${err.message}`;
  }
}

function draw({ buckets, r }) {
  svg.classList.remove('empty');
  drawChart(svg, buckets, r.bucketMs, (d) => formatClock(d, r.withDay));
  summary.textContent = summarize(buckets, range.options[range.selectedIndex].text.toLowerCase());
}

// --- list -------------------------------------------------------------------

async function loadList(token) {
  // Filters change faster than answers come: only the newest counts.
  const seq = ++listSeq;
  const q = new URLSearchParams({ limit: '50' });
  if (alertFilter) q.set('alertId', alertFilter);
  if (connFilter.value) q.set('connectionId', connFilter.value);
  if (stateFilter.value) q.set('state', stateFilter.value);
  if (token) q.set('token', token);
  try {
    const res = await api('GET', `/api/v1/deliveries?${q}`);
    if (seq !== listSeq) return;
    deliveries = token ? deliveries.concat(res.data || []) : (res.data || []);
    nextToken = res.next || null;
    pageError.hidden = true;
  } catch (err) {
    if (seq !== listSeq) return;
    setMessage(pageError, `The deliveries could not be loaded: ${err.message}`);
  }
  loading.hidden = true;
  render();
}

function render() {
  clear(rows);
  empty.hidden = deliveries.length > 0;
  table.hidden = deliveries.length === 0;
  more.hidden = !nextToken;
  for (const d of deliveries) {
    rows.append(row(d));
    if (expanded.has(d.id)) rows.append(detailRow(d));
  }
}

function connectionCell(id) {
  const name = names.get(id);
  if (!mayConnections) return h('code', {}, id);
  return h('a', { href: `/ui/connections/${id}` }, name || id);
}

function row(d) {
  const detailId = `detail-${d.id}`;
  const open = expanded.has(d.id);
  const stateCell = h('td', { 'data-label': 'State' }, badge(d.state));
  if (d.state === 'pending' && d.nextAttemptAt) stateCell.append(h('span', { class: 'muted next' }, ' next ', timeEl(d.nextAttemptAt)));
  const result = [];
  if (d.lastStatus) result.push(h('span', { class: 'code-status' }, statusLine(d.lastStatus)));
  if (d.lastError && d.lastError !== statusLine(d.lastStatus)) result.push(h('span', { class: 'muted last-error' }, d.lastError));
  const actions = h('td', { class: 'actions' },
    h('button', {
      type: 'button', class: 'secondary small', 'aria-expanded': String(open), 'aria-controls': detailId,
      'aria-label': `Attempts of delivery ${d.id}`, onclick: () => toggle(d),
    }, open ? 'Hide attempts' : 'Attempts'));
  if (mayRetry && (d.state === 'failed' || d.state === 'dead')) {
    actions.append(h('button', {
      type: 'button', class: 'primary small', 'aria-label': `Retry delivery ${d.id}`,
      onclick: (e) => retry(d, e.currentTarget),
    }, 'Retry'));
  }
  return h('tr', { dataset: { id: d.id } },
    h('td', { 'data-label': 'Created' }, timeEl(d.createdAt)),
    h('td', { 'data-label': 'Connection' }, connectionCell(d.connectionId)),
    h('td', { 'data-label': 'Trigger' }, d.triggerType),
    stateCell,
    h('td', { 'data-label': 'Attempts', class: 'num' }, String(d.attempts)),
    h('td', { 'data-label': 'Last result', class: 'result-cell' }, result.length ? result : h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': 'Updated' }, timeEl(d.updatedAt)),
    actions);
}

function detailRow(d) {
  const cell = h('td', { colspan: '8' }, h('p', { class: 'muted' }, 'Loading attempts…'));
  const tr = h('tr', { class: 'detail', id: `detail-${d.id}` }, cell);
  loadAttempts(d, cell);
  return tr;
}

async function loadAttempts(d, cell) {
  let full;
  try {
    full = await api('GET', `/api/v1/deliveries/${encodeURIComponent(d.id)}`);
  } catch (err) {
    clear(cell).append(h('p', { class: 'form-error' }, `The attempts could not be loaded: ${err.message}`));
    return;
  }
  const attempts = full.attempts || [];
  clear(cell).append(h('p', { class: 'detail-head' },
    `Delivery ${d.id} of alert ${d.alertId}. Created ${formatDateTime(d.createdAt)}`,
    d.state === 'pending' && d.nextAttemptAt ? `; next attempt ${formatDateTime(d.nextAttemptAt)}` : '', '.'));
  if (attempts.length === 0) {
    cell.append(h('p', { class: 'muted' }, 'No attempt yet.'));
    return;
  }
  cell.append(h('ol', { class: 'attempts' }, attempts.map((a) => h('li', {},
    h('p', {},
      h('strong', {}, `Attempt ${a.n}`), ` · ${formatDateTime(a.startedAt)} · ${formatMs(a.latencyMs)} · `,
      a.statusCode ? statusLine(a.statusCode) : 'no answer',
      a.error ? h('span', { class: 'muted' }, ` · ${a.error}`) : null,
      a.retryAt ? ` · retry ${formatDateTime(a.retryAt)}` : ''),
    a.response ? h('pre', { class: 'code', tabindex: '0' }, a.response) : null))));
}

function toggle(d) {
  if (expanded.has(d.id)) expanded.delete(d.id);
  else expanded.add(d.id);
  render();
  const button = rows.querySelector(`tr[data-id="${d.id}"] [aria-controls]`);
  if (button) button.focus();
}

async function retry(d, button) {
  button.disabled = true;
  try {
    const updated = await api('POST', `/api/v1/deliveries/${encodeURIComponent(d.id)}/retry`);
    deliveries = deliveries.map((x) => (x.id === d.id ? updated : x));
    render();
    say(`Delivery ${d.id} is pending again and will be sent shortly.`);
    const again = rows.querySelector(`tr[data-id="${d.id}"] [aria-controls]`);
    if (again) again.focus();
    setTimeout(() => refreshOne(d.id), 3000);
  } catch (err) {
    button.disabled = false;
    say(`Delivery ${d.id} was not retried: ${err.message}`);
  }
}

async function refreshOne(id) {
  let full;
  try {
    full = await api('GET', `/api/v1/deliveries/${encodeURIComponent(id)}`);
  } catch {
    return; // the Refresh button shows it later
  }
  const d = { ...full, attempts: Array.isArray(full.attempts) ? full.attempts.length : full.attempts };
  deliveries = deliveries.map((x) => (x.id === id ? d : x));
  const tr = rows.querySelector(`tr[data-id="${id}"]`);
  if (!tr) return;
  const hadFocus = tr.contains(document.activeElement);
  const fresh = row(d);
  tr.replaceWith(fresh);
  if (hadFocus) fresh.querySelector('button').focus();
}
