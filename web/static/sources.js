// The Sources page: HTTP sources with their category, host name and what
// they received; Add and Edit in a dialog, Delete and Rotate token after
// confirming. A new token's receiver URL is shown once, to be copied.
// Every route of /api/v1/sources needs Manage Collectors.
import { api, can } from './api.js';
import { startPage } from './shell.js';
import { h, $, setMessage, timeEl, modal, formErrors, confirmAction, copyButton } from './ui.js';
import { pagedList, say } from './resource.js';

const session = await startPage();
const mayManage = can(session, 'manageCollectors');

let editing = null; // the source in the dialog; null when adding

const editor = modal($('#editor'));
const errors = formErrors($('#editor'), $('#editor-error'));
const tokenDialog = modal($('#token-dialog'));
const list = pagedList({
  path: '/api/v1/sources', what: 'sources', row, emptyText: 'No sources yet. Add one to receive log lines over HTTP.',
});

if (!mayManage) {
  $('#list-loading').hidden = true;
  setMessage($('#list-error'), 'Your roles do not include Manage Collectors, so sources cannot be shown. Ask an administrator for a role with it.');
} else {
  $('#add-button').hidden = false;
  $('#add-button').addEventListener('click', () => openEditor(null));
  $('#editor-form').addEventListener('submit', save);
  $('#token-copy').append(copyButton(() => $('#token-url').value, 'Copy URL'));
  // The URL leaves the page with the dialog: it is not kept anywhere.
  $('#token-dialog').addEventListener('close', () => { $('#token-url').value = ''; });
  await list.load();
}

function row(s) {
  const received = s.received
    ? [`${s.received.toLocaleString()} records`, s.lastReceivedAt ? h('span', { class: 'muted' }, ', last ', timeEl(s.lastReceivedAt)) : null]
    : h('span', { class: 'muted' }, 'nothing yet');
  return h('tr', { dataset: { id: s.id } },
    h('th', { scope: 'row', 'data-label': 'Name' }, h('span', { class: 'conn-name' }, s.name),
      s.description ? h('span', { class: 'conn-desc' }, s.description) : null),
    h('td', { 'data-label': 'Category', class: 'host' }, s.category || h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': 'Host name', class: 'host' }, s.hostName || h('span', { class: 'muted' }, 'sender\'s address')),
    h('td', { 'data-label': 'Received' }, received),
    h('td', { 'data-label': 'Created' }, timeEl(s.createdAt)),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${s.name}`, onclick: () => openEditor(s) }, 'Edit'),
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Rotate the token of ${s.name}`, onclick: () => rotate(s) }, 'Rotate token'),
      h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${s.name}`, onclick: () => remove(s) }, 'Delete')));
}

function openEditor(s) {
  editing = s;
  $('#editor-form').reset();
  errors.clear();
  $('#editor-title').textContent = s ? `Edit Source “${s.name}”` : 'Add Source';
  for (const f of ['name', 'category', 'hostName', 'description']) $(`#f-${f}`).value = s ? s[f] || '' : '';
  editor.open();
  $('#f-name').focus();
}

async function save(e) {
  e.preventDefault();
  const button = $('#save');
  button.disabled = true;
  const body = {};
  for (const f of ['name', 'category', 'hostName', 'description']) body[f] = $(`#f-${f}`).value;
  const creating = !editing;
  try {
    const saved = creating
      ? await api('POST', '/api/v1/sources', body)
      : await api('PUT', `/api/v1/sources/${encodeURIComponent(editing.id)}`, body);
    editor.close();
    say(`${creating ? 'Created' : 'Saved'} “${saved.name}”.`);
    await list.load();
    if (creating) showToken(saved, `“${saved.name}” is ready. Send log lines to this URL with a POST, one record a line.`);
  } catch (err) {
    if (err.status === 400 || err.status === 409) errors.show(err);
    else errors.fail(`Not saved: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

// showToken shows a new token's receiver URL, once.
function showToken(s, intro) {
  $('#token-intro').textContent = intro;
  $('#token-url').value = s.url;
  tokenDialog.open();
  $('#token-url').focus();
  $('#token-url').select();
}

async function rotate(s) {
  const opener = document.activeElement;
  let fresh = null;
  const done = await confirmAction({
    title: `Rotate the token of “${s.name}”?`,
    text: 'A new token and URL are made; the current URL stops working at once. Senders need the new URL.',
    action: 'Rotate token',
    run: async () => { fresh = await api('POST', `/api/v1/sources/${encodeURIComponent(s.id)}/token`); },
  });
  if (!done) return;
  if (!fresh) {
    say(`“${s.name}” no longer exists.`);
    await list.load();
    return;
  }
  say(`The token of “${s.name}” was rotated; the old URL no longer works.`);
  if (opener && opener.isConnected) opener.focus(); // where the URL's dialog gives focus back
  showToken(fresh, `The new URL of “${s.name}”. The old one no longer works.`);
}

function remove(s) {
  return list.remove(s, 'Its URL stops working at once; the records it received stay until retention removes them. This cannot be undone.');
}
