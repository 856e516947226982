// The frame of every signed-in page: who is signed in, the navigation the
// session's capabilities allow, and signing out.
import { loadSession, signOut, can, ApiError } from './api.js';

// startPage loads the session (or goes to the sign-in page) and fills the
// header. It returns the session: {user, capabilities, via, csrfToken}.
export async function startPage() {
  let session;
  try {
    session = await loadSession();
  } catch (err) {
    const main = document.getElementById('main');
    const p = document.createElement('p');
    p.className = 'form-error';
    p.setAttribute('role', 'alert');
    p.textContent = err instanceof ApiError ? err.message : 'The page could not start.';
    main.prepend(p);
    throw err;
  }
  for (const a of document.querySelectorAll('nav [data-cap]')) {
    a.hidden = !can(session, a.dataset.cap);
  }
  const name = document.getElementById('account-name');
  if (name) {
    const u = session.user;
    name.textContent = u ? (u.name || u.email) : 'administrator token';
    if (u && u.name) name.title = u.email;
  }
  const out = document.getElementById('sign-out');
  if (out && session.via === 'session') {
    out.hidden = false;
    out.addEventListener('click', async () => {
      out.disabled = true;
      try {
        await signOut();
      } catch {
        // The session may have ended already; the sign-in page follows anyway.
      }
      location.assign('/ui/login');
    });
  }
  return session;
}
