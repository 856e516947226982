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
