// The REST API as the pages call it. The session cookie goes with every
// request on its own; the CSRF token that signing in and GET /api/v1/session
// return is kept in this module's memory only, and sent with every change.

let csrfToken = '';

// ApiError is an answer other than 2xx, or no answer at all (status 0).
export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback || `The server answered with status ${status}.`);
    this.status = status;
    this.code = (body && body.code) || '';
    // [{field, message}]: the problems of invalid input, named by field.
    this.errors = (body && Array.isArray(body.errors)) ? body.errors : [];
  }
}

// api sends one request and returns the decoded answer (null when empty).
// A 401 sends the browser to the sign-in page and never settles, so that
// nothing on the way out shows an error.
export async function api(method, path, body, { signInOn401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, null, 'The Hookline server could not be reached. Check that it is running, then try again.');
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (resp.status === 401 && signInOn401) {
    toSignIn();
    return new Promise(() => {});
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// toSignIn opens the sign-in page, which comes back here afterwards.
export function toSignIn() {
  const next = location.pathname + location.search;
  location.assign('/ui/login?next=' + encodeURIComponent(next));
}

// loadSession says who is signed in and keeps the session's CSRF token.
export async function loadSession(opts) {
  const s = await api('GET', '/api/v1/session', undefined, opts);
  csrfToken = (s && s.csrfToken) || '';
  return s;
}

export async function signIn(email, password) {
  const s = await api('POST', '/api/v1/session', { email, password }, { signInOn401: false });
  csrfToken = s.csrfToken || '';
  return s;
}

export async function signOut() {
  await api('DELETE', '/api/v1/session', undefined, { signInOn401: false });
  csrfToken = '';
}

// can reports whether the session's roles grant capability cap.
export function can(session, cap) {
  return Boolean(session && Array.isArray(session.capabilities) && session.capabilities.includes(cap));
}
