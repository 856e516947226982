// The Alerts page: accepted alerts, newest first, with their source (a
// link to the monitor or scheduled search that raised them), trigger type,
// results and the state of their deliveries; filtered by source and
// trigger type, kept in the address; Load more follows the list's token.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, badge, timeEl, triggerTypes } from './ui.js';

const session = await startPage();
const mayView = can(session, 'viewAlerts');
const mayMonitors = can(session, 'viewMonitors');
const mayConnections = can(session, 'viewConnections');

const pageError = $('#page-error');
const loading = $('#list-loading');
const empty = $('#list-empty');
const table = $('#list');
const rows = $('#rows');
const more = $('#more');
const sourceFilter = $('#filter-source');
const triggerFilter = $('#filter-trigger');

const names = {
  monitor: new Map(), // monitor ID → name
  search: new Map(), // scheduled search ID → name
  connection: new Map(), // connection ID → name
};
let alerts = [];
let nextToken = null;
let listSeq = 0; // of the newest list request

if (!mayView) {
  loading.hidden = true;
  for (const el of document.querySelectorAll('#filters, #refresh')) el.hidden = true;
  setMessage(pageError, 'Your roles do not include View Alerts, so alerts cannot be shown. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  for (const t of triggerTypes) triggerFilter.append(h('option', { value: t }, t));
  const params = new URLSearchParams(location.search);
  await loadNames();
  fillSources(params.get('source') || '');
  const trigger = params.get('triggerType') || '';
  if (trigger && !triggerTypes.includes(trigger)) triggerFilter.append(h('option', { value: trigger }, trigger));
  triggerFilter.value = trigger;
  sourceFilter.addEventListener('change', filtersChanged);
  triggerFilter.addEventListener('change', filtersChanged);
  $('#refresh').addEventListener('click', () => loadList());
  more.addEventListener('click', () => loadList(nextToken));
  await loadList();
}

// loadNames reads the names of monitors, searches and connections, for
// the sources and deliveries; without the capabilities, rows show IDs.
async function loadNames() {
  const lists = [];
  if (mayMonitors) {
    lists.push(['monitor', '/api/v1/monitors?limit=1000'], ['search', '/api/v1/scheduledSearches?limit=1000']);
  }
  if (mayConnections) lists.push(['connection', '/api/v1/connections?limit=1000']);
  await Promise.all(lists.map(async ([kind, path]) => {
    try {
      const res = await api('GET', path);
      for (const x of res.data || []) names[kind].set(x.id, x.name);
    } catch {
      // IDs stand in for the names.
    }
  }));
}

function fillSources(selected) {
  const group = (label, kind) => {
    const sorted = [...names[kind]].sort((a, b) => a[1].localeCompare(b[1]));
    if (sorted.length) {
      sourceFilter.append(h('optgroup', { label }, sorted.map(([id, name]) => h('option', { value: `${kind}:${id}` }, name))));
    }
  };
  group('Monitors', 'monitor');
  group('Scheduled searches', 'search');
  if (selected && ![...sourceFilter.options].some((o) => o.value === selected)) {
    sourceFilter.append(h('option', { value: selected }, sourceName(selected)));
  }
  sourceFilter.value = selected;
}

function filtersChanged() {
  const q = new URLSearchParams();
  if (sourceFilter.value) q.set('source', sourceFilter.value);
  if (triggerFilter.value) q.set('triggerType', triggerFilter.value);
  const qs = q.toString();
  history.replaceState(null, '', '/ui/alerts' + (qs ? '?' + qs : ''));
  loadList();
}

async function loadList(token) {
  // Filters change faster than answers come: only the newest counts.
  const seq = ++listSeq;
  const q = new URLSearchParams({ limit: '50' });
  if (sourceFilter.value) q.set('source', sourceFilter.value);
  if (triggerFilter.value) q.set('triggerType', triggerFilter.value);
  if (token) q.set('token', token);
  try {
    const res = await api('GET', `/api/v1/alerts?${q}`);
    if (seq !== listSeq) return;
    alerts = token ? alerts.concat(res.data || []) : (res.data || []);
    nextToken = res.next || null;
    pageError.hidden = true;
  } catch (err) {
    if (seq !== listSeq) return;
    setMessage(pageError, `The alerts could not be loaded: ${err.message}`);
  }
  loading.hidden = true;
  render();
}

function render() {
  clear(rows);
  empty.hidden = alerts.length > 0;
  table.hidden = alerts.length === 0;
  more.hidden = !nextToken;
  for (const a of alerts) rows.append(row(a));
}

// sourceName words a source: "API", "Alertmanager", "Monitor “name”".
function sourceName(source) {
  const [kind, id] = splitSource(source);
  if (kind === 'api') return 'API';
  if (kind === 'alertmanager') return 'Alertmanager';
  if (kind === 'monitor') return `Monitor “${names.monitor.get(id) || id}”`;
  if (kind === 'search') return `Scheduled search “${names.search.get(id) || id}”`;
  return source;
}

function splitSource(source) {
  const i = (source || '').indexOf(':');
  return i < 0 ? [source, ''] : [source.slice(0, i), source.slice(i + 1)];
}

function sourceCell(source) {
  const [kind, id] = splitSource(source);
  const page = { monitor: 'monitors', search: 'searches' }[kind];
  if (!page || !mayMonitors || !/^[0-9A-Fa-f]{16}$/.test(id)) return sourceName(source);
  return h('a', { href: `/ui/${page}/${id}` }, sourceName(source));
}

function deliveriesCell(a) {
  const ds = a.deliveries || [];
  if (ds.length === 0) return h('span', { class: 'muted' }, 'none');
  // Each links to the deliveries page showing this alert's deliveries to
  // that connection, with their attempts.
  return h('ul', { class: 'plain' }, ds.map((d) => h('li', {},
    h('a', { href: `/ui/deliveries?${new URLSearchParams({ alertId: a.id, connectionId: d.connectionId })}`, class: 'last-link', title: d.lastError || '' },
      badge(d.state), ' ', names.connection.get(d.connectionId) || d.connectionId),
    d.attempts > 1 ? h('span', { class: 'muted' }, ` · ${d.attempts} attempts`) : null)));
}

function row(a) {
  return h('tr', { dataset: { id: a.id } },
    h('td', { 'data-label': 'Received' }, timeEl(a.receivedAt)),
    h('th', { scope: 'row', 'data-label': 'Name' }, h('span', { class: 'conn-name' }, a.name || '(no name)')),
    h('td', { 'data-label': 'Trigger' }, h('span', { class: `trigger ${a.triggerType || ''}` }, a.triggerType || '—')),
    h('td', { 'data-label': 'Source', class: 'source' }, sourceCell(a.source)),
    h('td', { 'data-label': 'Results', class: 'num' }, a.numQueryResults !== undefined && a.numQueryResults !== '' ? String(a.numQueryResults) : '—'),
    h('td', { 'data-label': 'Deliveries' }, deliveriesCell(a)));
}
