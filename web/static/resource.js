// What the pages of sources, monitors and scheduled searches share: a list
// the API pages through, deleting from it after confirming, and (monitors,
// searches) an editor dialog whose address names what it shows, so that
// /ui/<page>/new and /ui/<page>/<id> can be linked to and reloaded.
import { api } from './api.js';
import { h, $, clear, setMessage, modal, formErrors, confirmAction } from './ui.js';

// say puts a short message in the page's #status, which is announced.
export function say(text) {
  $('#status').textContent = text;
}

// pagedList shows the items of the list route path in the page's #list,
// whose #rows hold row(item) each, with #list-empty (saying emptyText),
// #list-loading, #list-error and #more. what names the items in messages.
export function pagedList({ path, what, row, emptyText }) {
  const table = $('#list');
  const rows = $('#rows');
  const empty = $('#list-empty');
  const loading = $('#list-loading');
  const listError = $('#list-error');
  const more = $('#more');
  let items = [];
  let next = null;

  async function load(token) {
    const q = new URLSearchParams({ limit: '100' });
    if (token) q.set('token', token);
    try {
      const res = await api('GET', `${path}?${q}`);
      items = token ? items.concat(res.data || []) : (res.data || []);
      next = res.next || null;
      listError.hidden = true;
    } catch (err) {
      setMessage(listError, `The ${what} could not be loaded: ${err.message}`);
    }
    loading.hidden = true;
    render();
  }

  function render() {
    clear(rows);
    empty.hidden = items.length > 0;
    empty.textContent = emptyText;
    table.hidden = items.length === 0;
    more.hidden = !next;
    for (const x of items) rows.append(row(x));
  }

  // remove deletes item once text (what deleting it does) is confirmed.
  async function remove(item, text) {
    const done = await confirmAction({
      title: `Delete “${item.name}”?`,
      text,
      run: () => api('DELETE', `${path}/${encodeURIComponent(item.id)}`),
    });
    if (!done) return;
    items = items.filter((x) => x.id !== item.id);
    render();
    say(`Deleted “${item.name}”.`);
    $('#add-button').focus();
  }

  more.addEventListener('click', () => load(next));
  return { load, remove };
}

// routedEditor runs the page's #editor dialog over the definitions at the
// API's path, with the page's address at page: Add (page/new), Edit and,
// read-only, view (page/<id>). fill(item or null, readOnly) puts one in
// the reset form; definition() is what Save sends; rename(field, sent)
// maps the API's field names to the form's. A save loads list again.
export function routedEditor({ page, path, noun, fill, definition, rename, list }) {
  const form = $('#editor-form');
  const lower = noun.toLowerCase();
  let current = null; // {id, readOnly} while the dialog is open
  const dialog = modal($('#editor'), {
    onClose: () => {
      current = null;
      if (location.pathname.startsWith(`${page}/`)) history.replaceState(null, '', page);
    },
  });
  const errors = formErrors($('#editor'), $('#editor-error'));

  function address(p) {
    if (location.pathname !== p) history.replaceState(null, '', p);
  }

  function show(item, readOnly) {
    form.reset();
    errors.clear();
    fill(item, readOnly);
    for (const el of form.querySelectorAll('.dialog-body input, .dialog-body textarea, .dialog-body select')) el.disabled = readOnly;
    $('#save').hidden = readOnly;
    $('#editor-cancel').textContent = readOnly ? 'Close' : 'Cancel';
  }

  function openNew() {
    current = { id: '', readOnly: false };
    show(null, false);
    $('#editor-title').textContent = `Add ${noun}`;
    $('#editor-subtitle').textContent = '';
    address(`${page}/new`);
    dialog.open();
    $('#f-name').focus();
  }

  async function openEdit(id, readOnly) {
    const mine = { id, readOnly };
    current = mine;
    show(null, readOnly);
    $('#editor-title').textContent = readOnly ? noun : `Edit ${noun}`;
    $('#editor-subtitle').textContent = '';
    $('#editor-loading').hidden = false;
    address(`${page}/${id}`);
    dialog.open();
    let item;
    try {
      item = await api('GET', `${path}/${encodeURIComponent(id)}`);
    } catch (err) {
      $('#editor-loading').hidden = true;
      if (current !== mine) return;
      dialog.close();
      say(err.status === 404 ? `That ${lower} no longer exists.` : `The ${lower} could not be loaded: ${err.message}`);
      return;
    }
    $('#editor-loading').hidden = true;
    if (current !== mine) return;
    show(item, readOnly);
    $('#editor-subtitle').textContent = item.name;
    (readOnly ? $('#editor-cancel') : $('#f-name')).focus();
  }

  async function save(e) {
    e.preventDefault();
    if (!current || current.readOnly) return;
    const button = $('#save');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    const creating = !current.id;
    const body = definition();
    try {
      const saved = creating
        ? await api('POST', path, body)
        : await api('PUT', `${path}/${encodeURIComponent(current.id)}`, body);
      dialog.close();
      say(`${creating ? 'Created' : 'Saved'} “${saved.name}”.`);
      await list.load();
    } catch (err) {
      if (err.status === 400 || err.status === 409) errors.show(err, rename && ((f) => rename(f, body)));
      else errors.fail(`Not saved: ${err.message}`);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  // route opens what the address names; page/new only for those who may
  // manage, and anyone else sees a definition read-only.
  function route(mayManage) {
    const rest = location.pathname.startsWith(`${page}/`) ? location.pathname.slice(page.length + 1) : '';
    if (/^[0-9A-Fa-f]{16}$/.test(rest)) openEdit(rest, !mayManage);
    else if (rest === 'new' && mayManage) openNew();
    else if (rest === 'new') history.replaceState(null, '', page);
  }

  form.addEventListener('submit', save);
  return { openNew, openEdit, route };
}

// connectionNames lists the connections for a picker, or is null when
// they cannot be listed: the picker then asks for an ID.
export async function connectionNames() {
  try {
    const res = await api('GET', '/api/v1/connections?limit=1000');
    return (res.data || []).map((c) => ({ id: c.id, name: c.name }));
  } catch {
    return null;
  }
}

// connectionPicker chooses value among connections (from connectionNames),
// keeping an ID that is not among them; without a list, an ID is typed.
export function connectionPicker(id, connections, value) {
  let control;
  if (connections) {
    control = h('select', { id }, h('option', { value: '' }, 'Select a connection'),
      connections.map((c) => h('option', { value: c.id }, c.name)));
    if (value && !connections.some((c) => c.id === value)) control.append(h('option', { value }, `${value} (not found)`));
  } else {
    control = h('input', { id, autocomplete: 'off', spellcheck: 'false', placeholder: 'connection ID' });
  }
  control.value = value || '';
  return control;
}
