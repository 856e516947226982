// The Scheduled Searches page: each search's schedule, time range,
// condition, next run and last run; the Add/Edit dialog (schedule type or
// cron, time zone, condition, connection, payload, itemizing); delete
// after confirming. View Monitors shows them, read-only; Manage Monitors
// changes them.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import {
  h, $, clear, setMessage, timeEl, formatDateTime, modal, formErrors, confirmAction, operators, operatorWord, openOnClick,
} from './ui.js';

const session = await startPage();
const mayView = can(session, 'viewMonitors');
const mayManage = can(session, 'manageMonitors');
const mayConnections = can(session, 'viewConnections');

const status = $('#status');
const listError = $('#list-error');
const loading = $('#list-loading');
const empty = $('#list-empty');
const table = $('#list');
const rows = $('#rows');
const more = $('#more');
const dialogEl = $('#editor');
const form = $('#editor-form');
const scheduleType = $('#f-scheduleType');

const scheduleWords = {};
for (const o of scheduleType.options) scheduleWords[o.value] = o.text;

let searches = [];
let nextToken = null;
let connections = null; // [{id, name}], or null when they cannot be listed
let current = null; // {id, readOnly} while the dialog is open

const editor = modal(dialogEl, {
  onClose: () => {
    current = null;
    if (/^\/ui\/searches\/./.test(location.pathname)) history.replaceState(null, '', '/ui/searches');
  },
});
const errors = formErrors(dialogEl, $('#editor-error'));

function say(text) {
  status.textContent = text;
}

if (!mayView) {
  loading.hidden = true;
  setMessage(listError, 'Your roles do not include View Monitors, so there is nothing to show here. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  for (const el of table.querySelectorAll('.col-actions')) el.hidden = !mayManage;
  for (const [v, words] of operators) $('#f-operator').append(h('option', { value: v }, words));
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  $('#time-zones').append(...['UTC', ...zones.filter((z) => z !== 'UTC')].map((z) => h('option', { value: z })));
  scheduleType.addEventListener('change', showSchedule);
  $('#f-itemize').addEventListener('change', showItemize);
  for (const r of form.querySelectorAll('input[name="condition"]')) r.addEventListener('change', showCondition);
  // Choosing an operator or a number means the threshold.
  for (const el of [$('#f-operator'), $('#f-count')]) {
    el.addEventListener('input', () => { $('#f-cond-threshold').checked = true; showCondition(); });
  }
  form.addEventListener('submit', save);
  more.addEventListener('click', () => loadList(nextToken));
  if (mayManage) {
    const add = $('#add-button');
    add.hidden = false;
    add.addEventListener('click', () => openNew());
  }
  await Promise.all([loadList(), loadConnections()]);
  const m = /^\/ui\/searches\/(new|[0-9A-Fa-f]{16})$/.exec(location.pathname);
  if (m && m[1] === 'new' && mayManage) openNew();
  else if (m && m[1] !== 'new') openEdit(m[1], !mayManage);
  else if (m) history.replaceState(null, '', '/ui/searches');
}

async function loadConnections() {
  if (!mayConnections) return;
  try {
    const res = await api('GET', '/api/v1/connections?limit=1000');
    connections = (res.data || []).map((c) => ({ id: c.id, name: c.name }));
  } catch {
    connections = null; // the dialog asks for an ID instead
  }
}

async function loadList(token) {
  const q = new URLSearchParams({ limit: '100' });
  if (token) q.set('token', token);
  try {
    const res = await api('GET', `/api/v1/scheduledSearches?${q}`);
    searches = token ? searches.concat(res.data || []) : (res.data || []);
    nextToken = res.next || null;
    listError.hidden = true;
  } catch (err) {
    setMessage(listError, `The scheduled searches could not be loaded: ${err.message}`);
  }
  loading.hidden = true;
  render();
}

function render() {
  clear(rows);
  empty.hidden = searches.length > 0;
  empty.textContent = mayManage ? 'No scheduled searches yet. Add one to run a query on a schedule.' : 'No scheduled searches yet.';
  table.hidden = searches.length === 0;
  more.hidden = !nextToken;
  for (const s of searches) rows.append(row(s));
}

function scheduleText(s) {
  const words = s.scheduleType === 'Custom' ? `cron ${s.cronExpression}` : (scheduleWords[s.scheduleType] || s.scheduleType);
  return [words, s.timeZone && s.timeZone !== 'UTC' ? h('span', { class: 'muted block' }, s.timeZone) : null];
}

function conditionText(t) {
  return t ? `results ${operatorWord(t.operator)} ${t.count}` : 'every time';
}

function lastRun(s) {
  const run = s.state && s.state.lastRun;
  if (!run) return h('span', { class: 'muted' }, 'not yet');
  const out = [timeEl(run.scheduledAt)];
  if (run.error) {
    out.push(h('span', { class: 'badge failed' }, 'failed'), h('span', { class: 'muted block last-error' }, run.error));
  } else {
    out.push(h('span', { class: 'block' },
      `${run.results} ${run.results === 1 ? 'result' : 'results'}, ${run.alerts} ${run.alerts === 1 ? 'alert' : 'alerts'}`));
  }
  return out;
}

function row(s) {
  const link = openOnClick(h('a', { href: `/ui/searches/${s.id}`, class: 'conn-name' }, s.name), () => openEdit(s.id, !mayManage));
  const next = s.state && s.state.nextRunAt;
  const tr = h('tr', { dataset: { id: s.id } },
    h('th', { scope: 'row', 'data-label': 'Name' }, link,
      s.isDisabled ? [' ', h('span', { class: 'badge disabled' }, 'disabled')] : null,
      s.description ? h('span', { class: 'conn-desc' }, s.description) : null),
    h('td', { 'data-label': 'Schedule' }, scheduleText(s)),
    h('td', { 'data-label': 'Time range' }, `last ${s.timeRange}`),
    h('td', { 'data-label': 'Condition' }, conditionText(s.threshold)),
    h('td', { 'data-label': 'Next run', class: 'next-run' },
      next ? h('time', { datetime: next, title: formatDateTime(next) }, formatDateTime(next)) : h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': 'Last run', class: 'last-run' }, lastRun(s)));
  if (mayManage) {
    tr.append(h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${s.name}`, onclick: () => openEdit(s.id, false) }, 'Edit'),
      h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${s.name}`, onclick: () => remove(s) }, 'Delete')));
  }
  return tr;
}

// --- the dialog -------------------------------------------------------------------

function showSchedule() {
  const custom = scheduleType.value === 'Custom';
  $('#cron-field').hidden = !custom;
}

function showItemize() {
  $('#max-field').hidden = !$('#f-itemize').checked;
}

function showCondition() {
  const on = $('#f-cond-threshold').checked;
  $('#f-operator').classList.toggle('inactive', !on);
  $('#f-count').classList.toggle('inactive', !on);
}

function connectionControl(value) {
  let control;
  if (connections) {
    control = h('select', { id: 'f-connectionId' }, h('option', { value: '' }, 'Select a connection'),
      connections.map((c) => h('option', { value: c.id }, c.name)));
    if (value && !connections.some((c) => c.id === value)) control.append(h('option', { value }, `${value} (not found)`));
  } else {
    control = h('input', { id: 'f-connectionId', autocomplete: 'off', spellcheck: 'false', placeholder: 'connection ID' });
  }
  control.value = value || '';
  control.dataset.field = 'notification.connectionId';
  control.setAttribute('aria-describedby', 'f-connectionId-err');
  clear($('#connection-slot')).append(control);
}

function fill(s, readOnly) {
  form.reset();
  errors.clear();
  $('#f-name').value = s ? s.name : '';
  $('#f-description').value = s ? s.description || '' : '';
  $('#f-query').value = s ? s.query : '';
  scheduleType.value = s ? s.scheduleType : '15Minutes';
  $('#f-cronExpression').value = s && s.scheduleType === 'Custom' ? s.cronExpression : '';
  $('#f-timeZone').value = s ? s.timeZone || 'UTC' : 'UTC';
  $('#f-timeRange').value = s ? s.timeRange : '15m';
  const t = s ? s.threshold : { operator: 'gt', count: 0 };
  $(t ? '#f-cond-threshold' : '#f-cond-always').checked = true;
  $('#f-operator').value = t ? t.operator : 'gt';
  $('#f-count').value = t ? String(t.count) : '0';
  const n = (s && s.notification) || {};
  connectionControl(n.connectionId);
  $('#f-itemize').checked = Boolean(n.itemizeAlerts);
  $('#f-maxItemized').value = n.itemizeAlerts ? String(n.maxItemizedAlerts || 100) : '100';
  $('#f-payload').value = n.payload || '';
  $('#payload-details').open = Boolean(n.payload);
  $('#f-disabled').checked = Boolean(s && s.isDisabled);
  showSchedule();
  showItemize();
  showCondition();
  for (const el of form.querySelectorAll('.dialog-body input, .dialog-body textarea, .dialog-body select')) el.disabled = readOnly;
  $('#save').hidden = readOnly;
  $('#editor-cancel').textContent = readOnly ? 'Close' : 'Cancel';
}

function openNew() {
  current = { id: '', readOnly: false };
  fill(null, false);
  $('#editor-title').textContent = 'Add Scheduled Search';
  $('#editor-subtitle').textContent = '';
  if (location.pathname !== '/ui/searches/new') history.replaceState(null, '', '/ui/searches/new');
  editor.open();
  $('#f-name').focus();
}

async function openEdit(id, readOnly) {
  const mine = { id, readOnly };
  current = mine;
  fill(null, readOnly);
  $('#editor-title').textContent = readOnly ? 'Scheduled Search' : 'Edit Scheduled Search';
  $('#editor-subtitle').textContent = '';
  $('#editor-loading').hidden = false;
  if (location.pathname !== `/ui/searches/${id}`) history.replaceState(null, '', `/ui/searches/${id}`);
  editor.open();
  let s;
  try {
    s = await api('GET', `/api/v1/scheduledSearches/${encodeURIComponent(id)}`);
  } catch (err) {
    $('#editor-loading').hidden = true;
    if (current !== mine) return;
    editor.close();
    say(err.status === 404 ? 'That scheduled search no longer exists.' : `The scheduled search could not be loaded: ${err.message}`);
    return;
  }
  $('#editor-loading').hidden = true;
  if (current !== mine) return;
  fill(s, readOnly);
  $('#editor-subtitle').textContent = s.name;
  (readOnly ? $('#editor-cancel') : $('#f-name')).focus();
}

function definition() {
  const custom = scheduleType.value === 'Custom';
  const itemize = $('#f-itemize').checked;
  const count = $('#f-count').value.trim();
  return {
    name: $('#f-name').value,
    description: $('#f-description').value,
    query: $('#f-query').value,
    scheduleType: scheduleType.value,
    // A fixed schedule's expression is the server's to fill in.
    cronExpression: custom ? $('#f-cronExpression').value.trim() : '',
    timeZone: $('#f-timeZone').value.trim(),
    timeRange: $('#f-timeRange').value.trim(),
    threshold: $('#f-cond-threshold').checked
      ? { operator: $('#f-operator').value, count: count === '' || isNaN(Number(count)) ? -1 : Math.trunc(Number(count)) }
      : null,
    notification: {
      connectionId: $('#f-connectionId').value.trim(),
      payload: $('#f-payload').value,
      itemizeAlerts: itemize,
      maxItemizedAlerts: itemize ? Math.trunc(Number($('#f-maxItemized').value) || 0) : 0,
    },
    isDisabled: $('#f-disabled').checked,
  };
}

async function save(e) {
  e.preventDefault();
  if (!current || current.readOnly) return;
  const button = $('#save');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  const creating = !current.id;
  try {
    const body = definition();
    const saved = creating
      ? await api('POST', '/api/v1/scheduledSearches', body)
      : await api('PUT', `/api/v1/scheduledSearches/${encodeURIComponent(current.id)}`, body);
    editor.close();
    say(`${creating ? 'Created' : 'Saved'} “${saved.name}”.`);
    await loadList();
  } catch (err) {
    if (err.status === 400 || err.status === 409) errors.show(err);
    else errors.fail(`Not saved: ${err.message}`);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

async function remove(s) {
  const done = await confirmAction({
    title: `Delete “${s.name}”?`,
    text: 'It stops running; alerts it sent stay in the list. This cannot be undone.',
    run: () => api('DELETE', `/api/v1/scheduledSearches/${encodeURIComponent(s.id)}`),
  });
  if (!done) return;
  searches = searches.filter((x) => x.id !== s.id);
  render();
  say(`Deleted “${s.name}”.`);
  $('#add-button').focus();
}
