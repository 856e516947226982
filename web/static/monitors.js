// The Monitors page: each monitor's query, interval and window, triggers
// and status (active alerts, muted, disabled, from the state the list
// gives with each); the Add/Edit Monitor dialog with triggers, notifications and
// grouping; delete after confirming. View Monitors shows them, read-only;
// Manage Monitors changes them.
import { can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, timeEl, operators, operatorWord, openOnClick } from './ui.js';
import { pagedList, routedEditor, connectionNames, connectionPicker } from './resource.js';

const session = await startPage();
const mayView = can(session, 'viewMonitors');
const mayManage = can(session, 'manageMonitors');
const mayConnections = can(session, 'viewConnections');

const triggerRows = $('#trigger-rows');
const notificationRows = $('#notification-rows');

// The trigger types a monitor has, and the events a notification may run for.
const thresholdTriggers = ['Critical', 'Warning'];
const alertTypes = ['Critical', 'Warning', 'MissingData'];
const recoveryTypes = ['ResolvedCritical', 'ResolvedWarning', 'ResolvedMissingData'];
const typeWords = {
  Critical: 'Critical', Warning: 'Warning', MissingData: 'Missing Data',
  ResolvedCritical: 'Critical', ResolvedWarning: 'Warning', ResolvedMissingData: 'Missing Data',
};

let connections = null; // [{id, name}], or null when they cannot be listed
let rowSeq = 0; // makes notification rows' element IDs unique

const list = pagedList({
  path: '/api/v1/monitors', what: 'monitors', row, // each monitor comes with its state
  emptyText: mayManage ? 'No monitors yet. Add one to alert on what your logs show.' : 'No monitors yet.',
});
const editor = routedEditor({
  page: '/ui/monitors', path: '/api/v1/monitors', noun: 'Monitor', fill, definition, list,
  // The API names triggers by their place in what was sent; the form by type.
  rename: (f, sent) => f.replace(/^triggers\[(\d+)\]/, (all, i) => (sent.triggers[i] ? `triggers.${sent.triggers[i].triggerType}` : all)),
});

if (!mayView) {
  $('#list-loading').hidden = true;
  setMessage($('#list-error'), 'Your roles do not include View Monitors, so there is nothing to show here. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  for (const el of $('#list').querySelectorAll('.col-actions')) el.hidden = !mayManage;
  renderTriggerRows();
  $('#add-notification').addEventListener('click', () => {
    addNotification(null, false);
    notificationRows.lastElementChild.querySelector('select, input').focus();
  });
  if (mayManage) {
    const add = $('#add-button');
    add.hidden = false;
    add.addEventListener('click', () => editor.openNew());
  }
  const [, names] = await Promise.all([list.load(), mayConnections ? connectionNames() : null]);
  connections = names;
  editor.route(mayManage);
}

function excerpt(q, n = 90) {
  const one = q.replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
}

function triggerText(t) {
  if (t.triggerType === 'MissingData') return 'Missing Data';
  return `${t.triggerType}: ${t.field || 'result count'} ${operatorWord(t.thresholdType)} ${t.threshold}`;
}

function statusOf(m) {
  const out = [];
  if (m.isDisabled) out.push(h('span', { class: 'badge disabled' }, 'disabled'));
  if (m.muted) out.push(h('span', { class: 'badge muted-badge' }, 'muted'));
  if (m.state === undefined && !('state' in m)) {
    out.push(h('span', { class: 'muted' }, '…'));
    return out;
  }
  if (m.state === undefined) {
    out.push(h('span', { class: 'muted' }, 'status unavailable'));
    return out;
  }
  const active = (m.state && m.state.activeAlerts) || [];
  if (active.length) {
    const by = {};
    for (const a of active) by[a.triggerType] = (by[a.triggerType] || 0) + 1;
    for (const [t, n] of Object.entries(by)) {
      out.push(h('span', { class: `badge ${t === 'Critical' ? 'failed' : t === 'Warning' ? 'pending' : 'dead'}` },
        `${n} ${typeWords[t] || t}`));
    }
    out.push(h('span', { class: 'muted block' }, active.length === 1 ? '1 active alert' : `${active.length} active alerts`));
  } else if (!m.isDisabled) {
    out.push(h('span', { class: 'badge delivered' }, 'OK'));
  }
  const next = m.state && m.state.nextEvaluationAt;
  if (next && !m.isDisabled) out.push(h('span', { class: 'muted block' }, 'next ', timeEl(next)));
  return out;
}

function row(m) {
  const link = openOnClick(h('a', { href: `/ui/monitors/${m.id}`, class: 'conn-name' }, m.name), () => editor.openEdit(m.id, !mayManage));
  const tr = h('tr', { dataset: { id: m.id } },
    h('th', { scope: 'row', 'data-label': 'Name' }, link, m.description ? h('span', { class: 'conn-desc' }, m.description) : null),
    h('td', { 'data-label': 'Query' }, h('code', { class: 'query-excerpt', title: m.query }, excerpt(m.query))),
    h('td', { 'data-label': 'Every / over' }, `every ${m.interval}`, h('span', { class: 'muted block' }, `over ${m.window}`)),
    h('td', { 'data-label': 'Triggers' }, (m.triggers || []).map((t) => h('span', { class: 'block' }, triggerText(t)))),
    h('td', { 'data-label': 'Status', class: 'state' }, statusOf(m)));
  if (mayManage) {
    tr.append(h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${m.name}`, onclick: () => editor.openEdit(m.id, false) }, 'Edit'),
      h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${m.name}`, onclick: () => remove(m) }, 'Delete')));
  }
  return tr;
}

// --- the dialog: triggers -----------------------------------------------------

function renderTriggerRows() {
  for (const t of thresholdTriggers) {
    const id = `f-trig-${t}`;
    const on = h('input', { type: 'checkbox', id: `${id}-on`, dataset: { field: `triggers.${t}`, err: `${id}-err`, label: t } });
    const op = h('select', { id: `${id}-op`, dataset: { field: `triggers.${t}.thresholdType`, err: `${id}-err`, label: `${t} operator` } },
      operators.map(([v, words]) => h('option', { value: v }, words)));
    const field = h('input', {
      id: `${id}-field`, autocomplete: 'off', spellcheck: 'false', placeholder: 'result count',
      dataset: { field: `triggers.${t}.field`, err: `${id}-err`, label: `${t} field` }, 'aria-describedby': `${id}-err`,
    });
    const threshold = h('input', {
      id: `${id}-threshold`, type: 'number', step: 'any', inputmode: 'decimal',
      dataset: { field: `triggers.${t}.threshold`, err: `${id}-err`, label: `${t} threshold` }, 'aria-describedby': `${id}-err`,
    });
    const cond = h('div', { class: 'trigger-cond' },
      h('div', { class: 'field' }, h('label', { for: `${id}-field` }, 'Field'), field),
      h('div', { class: 'field' }, h('label', { for: `${id}-op` }, 'is'), op),
      h('div', { class: 'field' }, h('label', { for: `${id}-threshold` }, 'Threshold'), threshold));
    on.addEventListener('change', () => { cond.hidden = !on.checked; });
    triggerRows.append(h('div', { class: 'trigger-row', dataset: { trigger: t } },
      h('label', { class: 'check-label strong' }, on, ` ${t}`),
      cond,
      h('p', { class: 'field-error', id: `${id}-err`, hidden: true })));
  }
}

function setTriggers(list) {
  for (const t of thresholdTriggers) {
    const tr = (list || []).find((x) => x.triggerType === t);
    $(`#f-trig-${t}-on`).checked = Boolean(tr);
    $(`#f-trig-${t}-field`).value = tr ? tr.field || '' : '';
    $(`#f-trig-${t}-op`).value = tr ? tr.thresholdType || 'gt' : 'gt';
    $(`#f-trig-${t}-threshold`).value = tr ? String(tr.threshold) : '';
    triggerRows.querySelector(`[data-trigger="${t}"] .trigger-cond`).hidden = !tr;
  }
  $('#f-trig-MissingData-on').checked = (list || []).some((x) => x.triggerType === 'MissingData');
}

function triggersValue() {
  const out = [];
  for (const t of thresholdTriggers) {
    if (!$(`#f-trig-${t}-on`).checked) continue;
    const raw = $(`#f-trig-${t}-threshold`).value.trim();
    out.push({
      triggerType: t, thresholdType: $(`#f-trig-${t}-op`).value,
      // An empty or unreadable threshold goes as 0; the field says what it holds.
      threshold: raw === '' || isNaN(Number(raw)) ? 0 : Number(raw),
      field: $(`#f-trig-${t}-field`).value.trim(),
    });
  }
  if ($('#f-trig-MissingData-on').checked) out.push({ triggerType: 'MissingData', threshold: 0 });
  return out;
}

// --- the dialog: notifications ----------------------------------------------

function addNotification(n, readOnly) {
  const k = ++rowSeq;
  const id = `f-n${k}`;
  const types = new Set((n && n.runForTriggerTypes) || ['Critical', 'ResolvedCritical']);
  const conn = connectionPicker(`${id}-connectionId`, connections, n && n.connectionId);
  conn.dataset.part = 'connectionId';
  conn.dataset.label = 'Connection';
  conn.setAttribute('aria-describedby', `${id}-connectionId-err`);
  const checks = (list, what) => h('div', { class: 'check-group' }, h('span', { class: 'check-group-label' }, what),
    list.map((t) => h('label', { class: 'check-label' },
      h('input', { type: 'checkbox', value: t, checked: types.has(t), dataset: { type: t } }), ` ${typeWords[t]}`)));
  const payload = h('textarea', {
    id: `${id}-payload`, class: 'code', rows: '4', spellcheck: 'false', autocomplete: 'off',
    dataset: { part: 'payloadOverride', label: 'Payload override' }, 'aria-describedby': `${id}-payload-err`,
  });
  payload.value = (n && n.payloadOverride) || '';
  const recovery = h('textarea', {
    id: `${id}-recovery`, class: 'code', rows: '3', spellcheck: 'false', autocomplete: 'off',
    dataset: { part: 'resolutionPayloadOverride', label: 'Recovery payload override' }, 'aria-describedby': `${id}-recovery-err`,
  });
  recovery.value = (n && n.resolutionPayloadOverride) || '';
  const typesBox = h('fieldset', {
    class: 'run-for', id: `${id}-types`, tabindex: '-1',
    dataset: { part: 'runForTriggerTypes', label: 'Send for' }, 'aria-describedby': `${id}-types-err`,
  },
  h('legend', {}, 'Send for'),
  checks(alertTypes, 'Alert'), checks(recoveryTypes, 'Recovery'),
  h('p', { class: 'field-error', id: `${id}-types-err`, hidden: true }));
  const box = h('div', { class: 'notification' },
    h('div', { class: 'notification-head' },
      h('div', { class: 'field' }, h('label', { for: conn.id }, 'Connection'), conn,
        h('p', { class: 'field-error', id: `${id}-connectionId-err`, hidden: true })),
      readOnly ? null : h('button', {
        type: 'button', class: 'secondary small remove', 'aria-label': 'Remove this notification',
        onclick: () => { box.remove(); renumber(); $('#add-notification').focus(); },
      }, 'Remove')),
    typesBox,
    h('details', { class: 'overrides', open: Boolean(payload.value || recovery.value) },
      h('summary', {}, 'Payload override (optional)'),
      h('div', { class: 'field' }, h('label', { for: payload.id }, 'Alert payload'), payload,
        h('p', { class: 'help' }, 'Replaces the connection\'s payload for this monitor\'s alerts. Empty: the connection\'s.'),
        h('p', { class: 'field-error', id: `${id}-payload-err`, hidden: true })),
      h('div', { class: 'field' }, h('label', { for: recovery.id }, 'Recovery payload'), recovery,
        h('p', { class: 'field-error', id: `${id}-recovery-err`, hidden: true }))));
  notificationRows.append(box);
  renumber();
}

// renumber names each row's controls with its index in what Save sends,
// so that the API's notifications[1].connectionId finds its select.
function renumber() {
  [...notificationRows.children].forEach((box, i) => {
    for (const el of box.querySelectorAll('[data-part]')) el.dataset.field = `notifications[${i}].${el.dataset.part}`;
  });
  $('#no-notifications').hidden = notificationRows.children.length > 0;
}

function notificationsValue() {
  return [...notificationRows.children].map((box) => {
    const part = (name) => box.querySelector(`[data-part="${name}"]`);
    return {
      connectionId: part('connectionId').value.trim(),
      runForTriggerTypes: [...box.querySelectorAll('input[data-type]:checked')].map((c) => c.value),
      payloadOverride: part('payloadOverride').value,
      resolutionPayloadOverride: part('resolutionPayloadOverride').value,
    };
  });
}

// --- open, fill, save -----------------------------------------------------------

function fill(m, readOnly) {
  $('#f-name').value = m ? m.name : '';
  $('#f-description').value = m ? m.description || '' : '';
  $('#f-query').value = m ? m.query : '';
  $('#f-interval').value = m ? m.interval : '1m';
  $('#f-window').value = m ? m.window : '5m';
  setTriggers(m ? m.triggers : [{ triggerType: 'Critical', thresholdType: 'gt', threshold: 0, field: '' }]);
  clear(notificationRows);
  for (const n of (m ? m.notifications : []) || []) addNotification(n, readOnly);
  renumber();
  $('#f-groupFields').value = m ? (m.notificationGroupFields || []).join(', ') : '';
  $('#f-muted').checked = Boolean(m && m.muted);
  $('#f-disabled').checked = Boolean(m && m.isDisabled);
  $('#add-notification').hidden = readOnly;
}

function definition() {
  return {
    name: $('#f-name').value,
    description: $('#f-description').value,
    query: $('#f-query').value,
    interval: $('#f-interval').value.trim(),
    window: $('#f-window').value.trim(),
    triggers: triggersValue(),
    notifications: notificationsValue(),
    notificationGroupFields: $('#f-groupFields').value.split(',').map((s) => s.trim()).filter(Boolean),
    muted: $('#f-muted').checked,
    isDisabled: $('#f-disabled').checked,
  };
}

function remove(m) {
  return list.remove(m, 'It stops being evaluated, and its active alerts never recover; alerts it sent stay in the list. This cannot be undone.');
}
