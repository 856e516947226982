// The Scheduled Searches page: each search's schedule, time range,
// condition, next run and last run; the Add/Edit dialog (schedule type or
// cron, time zone, condition, connection, payload, itemizing); delete
// after confirming. View Monitors shows them, read-only; Manage Monitors
// changes them.
import { can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, timeEl, formatDateTime, operators, operatorWord, openOnClick } from './ui.js';
import { pagedList, routedEditor, connectionNames, connectionPicker } from './resource.js';

const session = await startPage();
const mayView = can(session, 'viewMonitors');
const mayManage = can(session, 'manageMonitors');
const mayConnections = can(session, 'viewConnections');

const form = $('#editor-form');
const scheduleType = $('#f-scheduleType');

const scheduleWords = {};
for (const o of scheduleType.options) scheduleWords[o.value] = o.text;

let connections = null; // [{id, name}], or null when they cannot be listed

const list = pagedList({
  path: '/api/v1/scheduledSearches', what: 'scheduled searches', row,
  emptyText: mayManage ? 'No scheduled searches yet. Add one to run a query on a schedule.' : 'No scheduled searches yet.',
});
const editor = routedEditor({
  page: '/ui/searches', path: '/api/v1/scheduledSearches', noun: 'Scheduled Search', fill, definition, list,
});

if (!mayView) {
  $('#list-loading').hidden = true;
  setMessage($('#list-error'), 'Your roles do not include View Monitors, so there is nothing to show here. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  for (const el of $('#list').querySelectorAll('.col-actions')) el.hidden = !mayManage;
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
  if (mayManage) {
    const add = $('#add-button');
    add.hidden = false;
    add.addEventListener('click', () => editor.openNew());
  }
  const [, names] = await Promise.all([list.load(), mayConnections ? connectionNames() : null]);
  connections = names;
  editor.route(mayManage);
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
  const link = openOnClick(h('a', { href: `/ui/searches/${s.id}`, class: 'conn-name' }, s.name), () => editor.openEdit(s.id, !mayManage));
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
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${s.name}`, onclick: () => editor.openEdit(s.id, false) }, 'Edit'),
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
  const control = connectionPicker('f-connectionId', connections, value);
  control.dataset.field = 'notification.connectionId';
  control.setAttribute('aria-describedby', 'f-connectionId-err');
  clear($('#connection-slot')).append(control);
}

function fill(s) {
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

function remove(s) {
  return list.remove(s, 'It stops running; alerts it sent stay in the list. This cannot be undone.');
}
