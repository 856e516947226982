// The sign-in page: POST /api/v1/session sets the session cookie; the page
// then returns to where the user was going.
import { signIn, loadSession, ApiError } from './api.js';
import { setMessage } from './ui.js';

const form = document.getElementById('signin');
const error = document.getElementById('signin-error');
const submit = document.getElementById('signin-submit');

// next is where to go after signing in: only a page of this UI, so that a
// crafted link cannot send the user elsewhere.
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  return /^\/ui\/[A-Za-z0-9/_?=&%.-]*$/.test(n) && !n.startsWith('/ui/login') ? n : '/ui/connections';
}

// Someone already signed in goes straight on.
loadSession({ signInOn401: false }).then(() => location.replace(next()), () => {});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const email = form.email.value.trim();
  const password = form.password.value;
  const missing = !email ? form.email : !password ? form.password : null;
  if (missing) {
    setMessage(error, !email ? 'Enter your email.' : 'Enter your password.');
    missing.setAttribute('aria-invalid', 'true');
    missing.focus();
    return;
  }
  form.email.removeAttribute('aria-invalid');
  form.password.removeAttribute('aria-invalid');
  submit.disabled = true;
  setMessage(error, '');
  try {
    await signIn(email, password);
    location.assign(next());
  } catch (err) {
    submit.disabled = false;
    setMessage(error, err instanceof ApiError ? err.message : 'Signing in failed.');
    form.password.select();
    form.password.focus();
  }
});
