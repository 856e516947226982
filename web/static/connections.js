// The Connections page: the list (name, type, URL host, last delivery),
// Add → type, the Create/Edit Connection dialog, and delete with
// confirmation. What the session's roles may not do is not offered.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import { h, $, clear, setMessage, badge, timeEl, trapFocus } from './ui.js';
import { createEditor, typeName } from './editor.js';

const session = await startPage();
const mayView = can(session, 'viewConnections');
const mayManage = can(session, 'manageConnections');
const mayViewAlerts = can(session, 'viewAlerts');

const status = $('#status');
const listError = $('#list-error');
const loading = $('#list-loading');
const empty = $('#list-empty');
const table = $('#list');
const rows = $('#rows');
const more = $('#more');

let connections = [];
let nextToken = null;
let latest = new Map(); // connection ID → newest delivery
let latestFailed = false;
let editor = null;
let pendingDelete = null; // {conn, opener, done} while the confirmation is open

function say(text) {
  status.textContent = text;
}

if (!mayView) {
  // The first page of the navigation the caller may see, if any.
  const first = document.querySelector('nav a[href]:not([hidden])');
  if (first) location.replace(first.getAttribute('href'));
  loading.hidden = true;
  setMessage(listError, 'Your roles do not include View Connections, so there is nothing to show here. Ask an administrator for a role with it.');
} else {
  await start();
}

async function start() {
  let types = [];
  try {
    const res = await api('GET', '/api/v1/connections/types');
    types = (res && res.data) || [];
  } catch (err) {
    setMessage(listError, `The connection types could not be loaded: ${err.message}`);
  }
  editor = createEditor({
    types,
    onSaved: (conn, created) => {
      const warn = (conn.warnings || []).join(' ');
      say(`${created ? 'Created' : 'Saved'} “${conn.name}”.${warn ? ' Warning: ' + warn : ''}`);
      loadList();
    },
    onMissing: (message) => say(message),
  });
  for (const el of table.querySelectorAll('.col-last')) el.hidden = !mayViewAlerts;
  for (const el of table.querySelectorAll('.col-actions')) el.hidden = !mayManage;
  if (mayManage && types.length) setUpAddMenu(types);
  setUpConfirm();
  more.addEventListener('click', () => loadList(nextToken));
  await loadList();
  openFromAddress(types);
}

// openFromAddress opens the dialog that /ui/connections/new?type=… or
// /ui/connections/<id> names.
function openFromAddress(types) {
  const m = /^\/ui\/connections\/(new|[0-9A-Fa-f]{16})$/.exec(location.pathname);
  if (!m) return;
  if (m[1] !== 'new') {
    editor.openEdit(m[1], !mayManage);
    return;
  }
  const type = new URLSearchParams(location.search).get('type');
  if (mayManage && types.some((t) => t.webhookType === type)) editor.openNew(type);
  else history.replaceState(null, '', '/ui/connections');
}

async function loadList(token) {
  listError.hidden = true;
  const q = new URLSearchParams({ limit: '100' });
  if (token) q.set('token', token);
  try {
    const [res] = await Promise.all([api('GET', `/api/v1/connections?${q}`), token ? null : loadLatest()]);
    connections = token ? connections.concat(res.data || []) : (res.data || []);
    nextToken = res.next || null;
  } catch (err) {
    loading.hidden = true;
    setMessage(listError, `The connections could not be loaded: ${err.message}`);
    return;
  }
  loading.hidden = true;
  render();
}

async function loadLatest() {
  if (!mayViewAlerts) return;
  try {
    const res = await api('GET', '/api/v1/deliveries/latest');
    latest = new Map(((res && res.data) || []).map((d) => [d.connectionId, d]));
    latestFailed = false;
  } catch {
    latestFailed = true;
  }
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function render() {
  clear(rows);
  empty.hidden = connections.length > 0;
  if (connections.length === 0) {
    clear(empty).append(mayManage ? 'No connections yet. Add one to send alerts to an AWS Lambda function or a webhook.' : 'No connections yet.');
  }
  table.hidden = connections.length === 0;
  more.hidden = !nextToken;
  for (const c of connections) rows.append(row(c));
}

function row(c) {
  const link = h('a', { href: `/ui/connections/${c.id}`, class: 'conn-name' }, c.name);
  link.addEventListener('click', (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    editor.openEdit(c.id, !mayManage);
  });
  const tr = h('tr', { dataset: { id: c.id } },
    h('th', { scope: 'row', 'data-label': 'Name' }, link,
      c.description ? h('span', { class: 'conn-desc' }, c.description) : null),
    h('td', { 'data-label': 'Type' }, typeName(c.webhookType)),
    h('td', { 'data-label': 'URL host', class: 'host' }, hostOf(c.url)));
  if (mayViewAlerts) tr.append(h('td', { 'data-label': 'Last delivery', class: 'last' }, lastDelivery(c)));
  if (mayManage) {
    tr.append(h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${c.name}`, onclick: () => editor.openEdit(c.id, false) }, 'Edit'),
      h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${c.name}`, onclick: (e) => confirmDelete(c, e.currentTarget) }, 'Delete')));
  }
  return tr;
}

function lastDelivery(c) {
  if (latestFailed) return h('span', { class: 'muted' }, 'unavailable');
  const d = latest.get(c.id);
  if (!d) return h('span', { class: 'muted' }, 'none yet');
  const detail = d.lastStatus ? ` (${d.lastStatus})` : '';
  return h('a', { href: `/ui/deliveries?connectionId=${c.id}`, class: 'last-link', title: d.lastError || '' },
    badge(d.state), ' ', timeEl(d.updatedAt || d.createdAt), detail);
}

// --- Add menu -------------------------------------------------------------

function setUpAddMenu(types) {
  const wrap = $('#add-wrap');
  const button = $('#add-button');
  const menu = $('#add-menu');
  wrap.hidden = false;
  for (const t of types) {
    menu.append(h('li', { role: 'none' },
      h('button', { type: 'button', role: 'menuitem', tabindex: '-1', dataset: { type: t.webhookType } }, typeName(t.webhookType))));
  }
  const items = () => [...menu.querySelectorAll('[role=menuitem]')];
  const close = (focusButton) => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focusButton) button.focus();
  };
  const open = (index) => {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    const list = items();
    list[(index + list.length) % list.length].focus();
  };
  button.addEventListener('click', () => (menu.hidden ? open(0) : close(false)));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); open(0); }
    if (e.key === 'ArrowUp') { e.preventDefault(); open(-1); }
  });
  menu.addEventListener('keydown', (e) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); list[(i + 1) % list.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); list[(i - 1 + list.length) % list.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); list[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); list[list.length - 1].focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'Tab') close(false);
  });
  menu.addEventListener('click', (e) => {
    const item = e.target.closest('[role=menuitem]');
    if (!item) return;
    close(false);
    button.focus(); // the dialog gives focus back here when it closes
    editor.openNew(item.dataset.type);
  });
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !wrap.contains(e.target)) close(false);
  });
}

// --- delete with confirmation ----------------------------------------------

function setUpConfirm() {
  const dialog = $('#confirm');
  const form = $('form', dialog);
  const error = $('#confirm-error');
  trapFocus(dialog);
  form.addEventListener('submit', async (e) => {
    if (!e.submitter || e.submitter.value !== 'delete' || !pendingDelete) return;
    e.preventDefault();
    const { conn } = pendingDelete;
    const button = e.submitter;
    button.disabled = true;
    try {
      await api('DELETE', `/api/v1/connections/${encodeURIComponent(conn.id)}`);
    } catch (err) {
      button.disabled = false;
      if (err.status !== 404) {
        setMessage(error, `Not deleted: ${err.message}`);
        return;
      }
    }
    button.disabled = false;
    pendingDelete.done = true;
    dialog.close();
  });
  dialog.addEventListener('close', () => {
    // The event comes a moment after the dialog closed: if it is open
    // again by now, this one belongs to the earlier opening.
    if (dialog.open) return;
    const p = pendingDelete;
    pendingDelete = null;
    if (!p) return;
    if (p.done) {
      connections = connections.filter((c) => c.id !== p.conn.id);
      render();
      say(`Deleted “${p.conn.name}”.`);
      const add = $('#add-button');
      (add && !add.closest('[hidden]') ? add : $('#main')).focus();
    } else if (p.opener.isConnected) {
      p.opener.focus();
    }
  });
}

function confirmDelete(conn, opener) {
  const dialog = $('#confirm');
  pendingDelete = { conn, opener, done: false };
  $('#confirm-title').textContent = `Delete “${conn.name}”?`;
  $('#confirm-text').textContent = 'Alerts that name this connection will fail from now on; deliveries already made stay in the log. This cannot be undone.';
  setMessage($('#confirm-error'), '');
  dialog.showModal();
  $('#confirm-cancel').focus();
}
