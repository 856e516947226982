// Small DOM helpers shared by the pages. Elements are built node by node,
// never from HTML strings, so text from the API is always text.

// h makes an element: h('button', {class: 'x', onclick: f, type: 'button'}, 'text', child...).
// Attributes: class, text, dataset (object), on<event> (listener), boolean
// true (present), false/null/undefined (left out), anything else as a string.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

// setMessage fills an element meant for one message and shows it, or hides
// it when text is empty.
export function setMessage(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

const reasons = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

// statusLine is "200 OK".
export function statusLine(code) {
  return reasons[code] ? `${code} ${reasons[code]}` : String(code);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function formatDateTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : dateTime.format(d);
}

export function formatClock(d, withDay) {
  return (withDay ? dayTime : timeOnly).format(d);
}

// ago is "just now", "5 min ago", "3 h ago", "2 days ago"; "in 10 s" ahead.
export function ago(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  let text;
  if (abs < 5) return 'just now';
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86400) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86400)} days`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

// timeEl is a <time> showing how long ago, with the full time as its title.
export function timeEl(iso) {
  if (!iso) return document.createTextNode('—');
  return h('time', { datetime: iso, title: formatDateTime(iso) }, ago(iso));
}

export function formatMs(ms) {
  if (typeof ms !== 'number' || !isFinite(ms)) return '';
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function badge(state) {
  return h('span', { class: `badge ${state}` }, state);
}

// Dialogs are native <dialog> elements opened with showModal, which makes
// the rest of the page inert and closes on Escape. trapFocus keeps Tab and
// Shift+Tab cycling inside, rather than leaving for the browser's own UI.
const focusable = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

export function trapFocus(dialog) {
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const items = [...dialog.querySelectorAll(focusable)].filter((el) => el.offsetParent !== null || el === document.activeElement);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
  });
}

// debounce runs f once calls have paused for ms.
export function debounce(f, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
}

// --- shared by the pages of sources, monitors, searches and alerts ----------

// modal wires a <dialog>: Tab kept inside, [data-close] buttons close it,
// and focus goes back to what opened it. onClose runs when it closes.
export function modal(dialog, { onClose } = {}) {
  let opener = null;
  trapFocus(dialog);
  for (const el of dialog.querySelectorAll('[data-close]')) {
    el.addEventListener('click', () => dialog.close());
  }
  dialog.addEventListener('close', () => {
    // The event comes a moment after the dialog closed: if it is open
    // again by now, this one belongs to the earlier opening.
    if (dialog.open) return;
    if (onClose) onClose();
    if (opener && opener.isConnected) opener.focus();
  });
  return {
    open() {
      if (!dialog.open) {
        opener = document.activeElement;
        dialog.showModal();
      }
    },
    close() { dialog.close(); },
  };
}

// formErrors places a 400's problems next to their fields. A field is the
// control inside root whose data-field is the API's field name; its
// message goes to the element its data-err names (else #<id>-err), after
// its label (data-label, else its <label>). A name without a control of its
// own goes to its parent's: triggers[0].threshold, then triggers[0], then
// triggers. rename maps the API's names to the form's first.
export function formErrors(root, topError) {
  topError.tabIndex = -1;
  const find = (field) => [...root.querySelectorAll('[data-field]')].find((el) => el.dataset.field === field && !el.closest('[hidden]'));
  function target(field) {
    for (let f = field; f;) {
      const input = find(f);
      if (input) {
        const err = document.getElementById(input.dataset.err || `${input.id}-err`);
        if (err) return { input, err };
      }
      const parent = /^(.*)\[\d+\]$/.exec(f) || /^(.*)\.[^.]+$/.exec(f);
      f = parent ? parent[1] : '';
    }
    return null;
  }
  function labelOf(input) {
    if (input.dataset.label) return input.dataset.label;
    const label = input.id && root.querySelector(`label[for="${input.id}"]`);
    return label ? label.firstChild.textContent.trim() : '';
  }
  // A query's or template's error ("line 2, column 5: …") reads better
  // without the label; the API's other messages follow a field's name.
  function phrase(input, message) {
    if (/^line \d+/.test(message)) return message;
    const label = labelOf(input);
    return label ? `${label} ${message}` : message;
  }
  function clearAll() {
    for (const el of root.querySelectorAll('.field-error')) setMessage(el, '');
    for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    clear(topError);
    topError.hidden = true;
  }
  function show(err, rename = (f) => f) {
    clearAll();
    const unplaced = [];
    let first = null;
    const problems = err.errors && err.errors.length ? err.errors : [{ message: err.message }];
    for (const e of problems) {
      const t = e.field ? target(rename(e.field)) : null;
      if (!t) {
        unplaced.push(e.field ? `${e.field} ${e.message}` : e.message);
        continue;
      }
      const text = phrase(t.input, e.message);
      // Several problems of one field (or of one row) are all said.
      setMessage(t.err, t.err.hidden ? text : `${t.err.textContent} ${text}`);
      t.input.setAttribute('aria-invalid', 'true');
      first = first || t.input;
    }
    // A problem inside folded details would not be seen.
    for (const d of root.querySelectorAll('details')) {
      if (d.querySelector('[aria-invalid="true"]')) d.open = true;
    }
    if (first) topError.append(h('p', {}, 'Some fields need attention; they are marked below.'));
    if (unplaced.length) topError.append(h('ul', {}, unplaced.map((m) => h('li', {}, m))));
    topError.hidden = false;
    (first || topError).focus();
  }
  function fail(message) {
    clearAll();
    topError.append(h('p', {}, message));
    topError.hidden = false;
    topError.focus();
  }
  return { clear: clearAll, show, fail };
}

// confirmAction asks in the page's #confirm dialog (#confirm-title,
// #confirm-text, #confirm-error, #confirm-cancel, #confirm-delete) and runs
// run() when the action is chosen; a failure is said in the dialog, which
// stays open. It settles true once run succeeded (a 404 counts: the thing
// is gone), false when cancelled; focus goes back to the opener on cancel,
// and is the caller's to place after success.
let confirmState = null;

export function confirmAction({ title, text, action = 'Delete', run }) {
  const dialog = $('#confirm');
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = '1';
    trapFocus(dialog);
    $('form', dialog).addEventListener('submit', async (e) => {
      const st = confirmState;
      if (!e.submitter || e.submitter.value !== 'delete' || !st) return;
      e.preventDefault();
      const button = e.submitter;
      button.disabled = true;
      try {
        await st.run();
        st.done = true;
      } catch (err) {
        if (err.status === 404) {
          st.done = true;
        } else {
          setMessage($('#confirm-error'), `Not done: ${err.message}`);
        }
      }
      button.disabled = false;
      if (st.done) dialog.close();
    });
    dialog.addEventListener('close', () => {
      if (dialog.open) return;
      const st = confirmState;
      confirmState = null;
      if (!st) return;
      if (!st.done && st.opener && st.opener.isConnected) st.opener.focus();
      st.resolve(st.done);
    });
  }
  return new Promise((resolve) => {
    confirmState = { run, resolve, done: false, opener: document.activeElement };
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    $('#confirm-delete').textContent = action;
    setMessage($('#confirm-error'), '');
    dialog.showModal();
    $('#confirm-cancel').focus();
  });
}

// copyButton copies text() to the clipboard and says so on the button.
export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'secondary small' }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Select and copy by hand';
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
  return button;
}

// triggerTypes are the alerts' trigger types, in the order lists offer them.
export const triggerTypes = ['Critical', 'Warning', 'MissingData', 'ResolvedCritical', 'ResolvedWarning', 'ResolvedMissingData', 'Normal'];

// operators are the threshold types of monitors and searches, in words.
export const operators = [
  ['gt', 'greater than'], ['ge', 'greater than or equal to'], ['lt', 'less than'],
  ['le', 'less than or equal to'], ['eq', 'equal to'],
];

export function operatorWord(op) {
  const o = operators.find((x) => x[0] === op);
  return o ? o[1] : op;
}

// openOnClick makes a link open something in the page on a plain click,
// and still open its address in a new tab with a modifier.
export function openOnClick(link, f) {
  link.addEventListener('click', (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    f();
  });
  return link;
}
