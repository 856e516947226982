// The Create/Edit Connection dialog: the fields of the connection's type
// (from GET /api/v1/connections/types), up to five custom headers, the alert
// and recovery payload editors with a live check and preview, the variables
// beside them, Test Alert / Test Recovery and Save.
import { api } from './api.js';
import { h, $, clear, setMessage, statusLine, formatMs, trapFocus, debounce } from './ui.js';
import { inferFromURL } from './aws.js';

const typeNames = { AWSLambda: 'AWS Lambda', Webhook: 'Webhook' };

export function typeName(t) {
  return typeNames[t] || t;
}

const urlHelp = {
  AWSLambda: 'The Lambda Function URL (…lambda-url.<region>.on.aws/) or the API Gateway invoke URL (…execute-api.<region>.amazonaws.com/<stage>/…). Region and service name are filled in from it.',
  Webhook: 'The URL that receives each alert as a POST with the payload as its JSON body.',
};

// What the URL field is under a mode: the Invoke API's URL is the Lambda
// endpoint, not the function's own URL.
const urlByMode = {
  AWSLambda: {
    invokeMode: {
      invoke: {
        label: 'Lambda endpoint',
        help: 'The Lambda endpoint of the function\'s region, lambda.<region>.amazonaws.com over HTTPS (.amazonaws.com.cn in China), or a VPC or local endpoint. The region is filled in from it; Function Name below says which function to invoke.',
      },
    },
  },
};

// modeNote says what a mode means beyond its fields' help. ambient is
// whether the server lets connections use its own AWS credentials, which
// it says by offering defaultChain.
function modeNote(type, field, value, ambient) {
  if (type !== 'AWSLambda') return '';
  if (field === 'authMode' && value === 'assumeRole') {
    return ambient
      ? 'Hookline assumes the role through AWS STS and renews its temporary credentials. Leave the access key empty to assume the role with this server\'s own AWS credentials, which its administrator has allowed.'
      : 'Hookline assumes the role through AWS STS with the access key below and renews its temporary credentials. The access key is required: this server\'s administrator has not allowed connections to use the server\'s own AWS credentials.';
  }
  if (field === 'authMode' && value === 'defaultChain') {
    return 'Requests are signed with the AWS credentials of the machine Hookline runs on (its environment, shared config, web identity, or instance or container role), which this server\'s administrator has allowed. No access key is kept with the connection.';
  }
  if (field === 'invokeMode' && value === 'invoke') {
    return 'Hookline calls the Lambda Invoke API for the function named below; the URL above is the Lambda endpoint. When the function fails, the delivery fails and is not tried again.';
  }
  return '';
}

// invocationsRE matches an Invoke API URL that names its function, which a
// connection saved before invokeMode existed may have: it is in invoke mode.
const invocationsRE = /\/2015-03-31\/functions\/[^/]+\/invocations\/?$/;

const optionPlaceholder = { region: 'Select your region', serviceName: 'Select the service' };

// optionLabel is the words a person reads for option value of field f.
function optionLabel(f, value) {
  return (f.optionLabels && f.optionLabels[value]) || value;
}

// Starting payloads for a new connection: the fields a receiver usually
// reads. Sumo Logic's dialog starts empty for AWS Lambda; a working
// example is quicker to adapt than to write.
const starter = {
  defaultPayload: `{
  "name": "{{Name}}",
  "type": "{{TriggerType}}",
  "description": "{{Description}}",
  "time": "{{TriggerTime}}",
  "condition": "{{TriggerCondition}}",
  "queryUrl": "{{QueryURL}}",
  "numResults": {{NumQueryResults}},
  "results": "{{ResultsJson}}"
}`,
  resolutionPayload: `{
  "name": "{{Name}}",
  "type": "{{TriggerType}}",
  "time": "{{TriggerTime}}"
}`,
};

// Byte limits of the two payloads, as the API checks them.
const payloadLimit = { defaultPayload: 64 * 1024, resolutionPayload: 4096 };
const maxHeaders = 5;

const payloadFields = ['defaultPayload', 'resolutionPayload'];

// hasName is the answer field that says a secret is set: secretAccessKey →
// hasSecretAccessKey.
function hasName(name) {
  return 'has' + name.charAt(0).toUpperCase() + name.slice(1);
}

// createEditor wires the dialog in the page. types is the data of GET
// /api/v1/connections/types; onSaved(connection, created) runs after Save;
// onMissing(message) when a connection to open is gone.
export function createEditor({ types, onSaved, onMissing }) {
  const dialog = $('#editor');
  const form = $('#editor-form');
  const title = $('#editor-title');
  const subtitle = $('#editor-subtitle');
  const topError = $('#editor-error');
  const loading = $('#editor-loading');
  const nameInput = $('#f-name');
  const urlInput = $('#f-url');
  const urlNote = $('#f-url-note');
  const typeBox = $('#type-fields');
  const headerRows = $('#header-rows');
  const addHeader = $('#add-header');
  const testSection = $('#test-section');
  const testResult = $('#test-result');
  const testButtons = [$('#test-alert'), $('#test-recovery')];
  const saveButton = $('#save');
  const cancelButton = $('#editor-cancel');
  const varsPanel = $('.variables', dialog);

  let state = null; // {mode, type, kind, id, conn, readOnly}
  let opener = null;
  let lastPayload = $('#f-defaultPayload');
  let variablesLoaded = false;

  trapFocus(dialog);
  for (const el of dialog.querySelectorAll('[data-close]')) {
    el.addEventListener('click', () => dialog.close());
  }
  dialog.addEventListener('close', () => {
    // The event comes a moment after the dialog closed: if it is open
    // again by now, this one belongs to the earlier opening.
    if (dialog.open) return;
    state = null;
    if (/^\/ui\/connections\/./.test(location.pathname)) history.replaceState(null, '', '/ui/connections');
    if (opener && opener.isConnected) opener.focus();
  });

  // --- fields -------------------------------------------------------------

  function kindOf(type) {
    return types.find((t) => t.webhookType === type) || { webhookType: type, fields: [] };
  }

  function renderTypeFields(kind, conn) {
    clear(typeBox);
    for (const f of kind.fields || []) {
      const id = `f-${f.name}`;
      const stored = Boolean(conn && conn[hasName(f.name)]);
      const described = [`${id}-help`, `${id}-err`];
      let control;
      if (Array.isArray(f.options) && f.options.length > 0) {
        control = h('select', { id, name: f.name });
        // A field with a default always has a value: the default is a
        // choice too, and the fields shown depend on it.
        if (!f.default) control.append(h('option', { value: '' }, optionPlaceholder[f.name] || 'Select…'));
        // The value is what the API takes; the text is the type's words
        // for it (optionLabels), or the value where it gives none.
        for (const o of f.options) {
          control.append(h('option', { value: o }, optionLabel(f, o)));
        }
        setSelect(control, (conn && conn[f.name]) || impliedValue(f, conn) || f.default || '');
      } else if (f.secret) {
        control = h('input', {
          id, name: f.name, type: 'password', autocomplete: 'new-password', spellcheck: 'false',
          placeholder: stored ? 'set — leave empty to keep' : '',
        });
        if (stored) described.unshift(`${id}-stored`);
      } else {
        control = h('input', { id, name: f.name, autocomplete: 'off', spellcheck: 'false' });
        control.value = (conn && conn[f.name]) || '';
      }
      if (controls(kind).has(f.name)) described.push(`${id}-mode`);
      control.setAttribute('aria-describedby', described.join(' '));
      control.dataset.label = f.label;
      if (f.required) control.setAttribute('aria-required', 'true');
      const field = h('div', { class: 'field', dataset: { field: f.name } },
        h('label', { for: id }, f.label, h('span', { class: 'optional', hidden: Boolean(f.required || f.default) }, ' (optional)')),
        control,
        stored ? h('p', { class: 'note', id: `${id}-stored` }, 'A value is stored; it is never shown. Leave the field empty to keep it, or type a new one to replace it.') : null,
        stored && !f.required ? h('label', { class: 'check-label' },
          h('input', { type: 'checkbox', id: `${id}-clear` }), ` Remove the stored ${f.label}`) : null,
        h('p', { class: 'help', id: `${id}-help` }, f.help || ''),
        controls(kind).has(f.name) ? h('p', { class: 'mode-note', id: `${id}-mode`, 'aria-live': 'polite' }) : null,
        h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
      typeBox.append(field);
      if (controls(kind).has(f.name)) control.addEventListener('change', () => applyModes());
    }
    applyModes();
  }

  // controls names the fields that other fields' showWhen or requiredWhen
  // depend on: the modes.
  function controls(kind) {
    const names = new Set();
    for (const f of kind.fields || []) {
      for (const cond of [f.showWhen, f.requiredWhen]) {
        for (const name of Object.keys(cond || {})) names.add(name);
      }
    }
    return names;
  }

  // impliedValue is a mode an existing connection is in without saying so:
  // an Invoke API URL that names its function means invokeMode invoke.
  function impliedValue(f, conn) {
    if (!conn || state.type !== 'AWSLambda') return '';
    if (f.name === 'invokeMode' && invocationsRE.test(conn.url || '')) return 'invoke';
    return '';
  }

  // modeValue is a field's current value, or its default when empty.
  function modeValue(name) {
    const el = $(`#f-${name}`, typeBox);
    const f = (state.kind.fields || []).find((x) => x.name === name);
    return (el && el.value) || (f && f.default) || '';
  }

  // holds says whether a showWhen or requiredWhen condition holds now: each
  // named field's value is one of those listed. None always holds.
  function holds(cond) {
    return Object.entries(cond || {}).every(([name, values]) => values.includes(modeValue(name)));
  }

  // applyModes shows the fields the chosen modes use and hides the others
  // (which are then not sent), marks which are required, and says what
  // the modes mean, the URL's label among it.
  function applyModes() {
    if (!state || !state.kind) return;
    const kind = state.kind;
    for (const f of kind.fields || []) {
      const box = typeBox.querySelector(`.field[data-field="${f.name}"]`);
      if (!box) continue;
      const shown = holds(f.showWhen);
      box.hidden = !shown;
      if (!shown) setFieldError(f.name, '');
      const required = f.required || (f.requiredWhen ? holds(f.requiredWhen) : false);
      const control = $(`#f-${f.name}`, box);
      if (required) control.setAttribute('aria-required', 'true');
      else control.removeAttribute('aria-required');
      // A field with a default always has a value: nothing to leave out.
      $('label > .optional', box).hidden = required || Boolean(f.default);
    }
    const authField = (kind.fields || []).find((f) => f.name === 'authMode');
    const ambient = Boolean(authField && (authField.options || []).includes('defaultChain'));
    for (const name of controls(kind)) {
      const note = $(`#f-${name}-mode`, typeBox);
      if (note) note.textContent = modeNote(state.type, name, modeValue(name), ambient);
    }
    let url = { label: 'URL', help: urlHelp[state.type] || '' };
    for (const [name, byValue] of Object.entries(urlByMode[state.type] || {})) {
      url = byValue[modeValue(name)] || url;
    }
    $('label[for="f-url"]', dialog).textContent = url.label;
    urlInput.dataset.label = url.label;
    $('#f-url-help').textContent = url.help;
  }

  function setSelect(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(h('option', { value }, value));
    }
    select.value = value;
  }

  function setTypeField(name, value) {
    const el = $(`#f-${name}`, typeBox);
    if (!el) return false;
    if (el.tagName === 'SELECT') setSelect(el, value);
    else el.value = value;
    return true;
  }

  urlInput.addEventListener('input', () => {
    if (!state || state.readOnly) return;
    const found = inferFromURL(urlInput.value);
    const kind = state.kind;
    const names = new Set((kind.fields || []).map((f) => f.name));
    if (!found || !names.has('region') || !names.has('serviceName')) {
      urlNote.textContent = '';
      return;
    }
    setTypeField('region', found.region);
    setTypeField('serviceName', found.service);
    setFieldError('region', '');
    setFieldError('serviceName', '');
    const serviceBox = typeBox.querySelector('.field[data-field="serviceName"]');
    urlNote.textContent = serviceBox && serviceBox.hidden
      ? `Region ${found.region} was filled in from the URL.`
      : `Region ${found.region} and service name ${found.service} were filled in from the URL.`;
  });

  // --- custom headers -----------------------------------------------------

  function headerValues() {
    return [...headerRows.querySelectorAll('.header-row')].map((row) => ({
      name: $('.h-name', row).value,
      value: $('.h-value', row).value,
    }));
  }

  function renderHeaders(list, readOnly) {
    clear(headerRows);
    list.forEach((hd, i) => {
      const n = i + 1;
      const nameId = `f-h${i}-name`;
      const valueId = `f-h${i}-value`;
      const nameInput = h('input', { id: nameId, class: 'h-name', autocomplete: 'off', spellcheck: 'false', placeholder: 'X-Team', 'aria-describedby': `${nameId}-err`, disabled: readOnly });
      const valueInput = h('input', { id: valueId, class: 'h-value', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${valueId}-err`, disabled: readOnly });
      nameInput.value = hd.name;
      valueInput.value = hd.value;
      nameInput.dataset.label = `Header ${n} name`;
      valueInput.dataset.label = `Header ${n} value`;
      headerRows.append(h('div', { class: 'header-row' },
        h('div', { class: 'field' },
          h('label', { for: nameId }, 'Name', h('span', { class: 'visually-hidden' }, ` of header ${n}`)),
          nameInput, h('p', { class: 'field-error', id: `${nameId}-err`, hidden: true })),
        h('div', { class: 'field' },
          h('label', { for: valueId }, 'Value', h('span', { class: 'visually-hidden' }, ` of header ${n}`)),
          valueInput, h('p', { class: 'field-error', id: `${valueId}-err`, hidden: true })),
        readOnly ? null : h('button', {
          type: 'button', class: 'icon remove', 'aria-label': `Remove header ${n}`,
          onclick: () => {
            const values = headerValues();
            values.splice(i, 1);
            renderHeaders(values, false);
            const focusTo = $(`#f-h${Math.min(i, values.length - 1)}-name`) || addHeader;
            focusTo.focus();
          },
        }, '×')));
    });
    addHeader.hidden = readOnly;
    addHeader.disabled = list.length >= maxHeaders;
    addHeader.textContent = list.length >= maxHeaders ? `Up to ${maxHeaders} headers` : 'Add header';
  }

  addHeader.addEventListener('click', () => {
    const values = headerValues();
    if (values.length >= maxHeaders) return;
    values.push({ name: '', value: '' });
    renderHeaders(values, false);
    $(`#f-h${values.length - 1}-name`).focus();
  });

  // --- the definition sent to the API --------------------------------------

  function definition() {
    const d = {
      type: 'WebhookDefinition',
      webhookType: state.type,
      name: nameInput.value.trim(),
      description: $('#f-description').value,
      url: urlInput.value.trim(),
      customHeaders: headerValues().filter((hd) => hd.name.trim() !== '' || hd.value !== ''),
      defaultPayload: $('#f-defaultPayload').value,
      resolutionPayload: $('#f-resolutionPayload').value,
    };
    for (const f of state.kind.fields || []) {
      const el = $(`#f-${f.name}`, typeBox);
      // A field the chosen modes do not use is hidden, and not sent.
      if (!el || el.closest('.field').hidden) continue;
      if (f.secret) {
        const remove = $(`#f-${f.name}-clear`, typeBox);
        if (remove && remove.checked) d[f.name] = '';
        else if (el.value !== '') d[f.name] = el.value.trim();
        // Left out: a new connection has none; an edit keeps the stored one.
      } else {
        d[f.name] = el.value.trim();
      }
    }
    return d;
  }

  // --- errors next to their fields ----------------------------------------

  function target(field) {
    const m = /^customHeaders\[(\d+)\]\.(name|value)$/.exec(field || '');
    if (m) {
      const input = $(`#f-h${m[1]}-${m[2]}`);
      return input ? { input, err: $(`#f-h${m[1]}-${m[2]}-err`) } : null;
    }
    if (field === 'customHeaders') {
      return { input: $('.h-name', headerRows) || addHeader, err: $('#f-customHeaders-err') };
    }
    if (!field || !/^[A-Za-z]+$/.test(field)) return null;
    const input = $(`#f-${field}`, dialog);
    const err = $(`#f-${field}-err`, dialog);
    return input && err ? { input, err } : null;
  }

  function labelOf(input) {
    if (input.dataset.label) return input.dataset.label;
    const label = input.id && dialog.querySelector(`label[for="${input.id}"]`);
    return label ? label.firstChild.textContent.trim() : '';
  }

  // phrase puts the field's label before the API's message, which is
  // written to follow a field name ("is required"); a template's error
  // ("line 2, column 5: …") reads better on its own.
  function phrase(input, message) {
    if (/^line \d+/.test(message)) return message;
    const label = labelOf(input);
    return label ? `${label} ${message}` : message;
  }

  function setFieldError(field, message) {
    const t = target(field);
    if (!t) return false;
    setMessage(t.err, message ? phrase(t.input, message) : '');
    if (message) t.input.setAttribute('aria-invalid', 'true');
    else t.input.removeAttribute('aria-invalid');
    return true;
  }

  function clearErrors() {
    for (const el of dialog.querySelectorAll('.field-error')) setMessage(el, '');
    for (const el of dialog.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    clear(topError);
    topError.hidden = true;
  }

  // showErrors places each problem of a 400 next to its field and says at
  // the top what could not be placed.
  function showErrors(err) {
    const unplaced = [];
    let first = null;
    for (const e of err.errors.length ? err.errors : [{ message: err.message }]) {
      if (e.field && setFieldError(e.field, e.message)) {
        first = first || target(e.field).input;
      } else {
        unplaced.push(e.field ? `${e.field} ${e.message}` : e.message);
      }
    }
    clear(topError);
    if (first) topError.append(h('p', {}, 'Some fields need attention; they are marked below.'));
    if (unplaced.length) topError.append(h('ul', {}, unplaced.map((m) => h('li', {}, m))));
    topError.hidden = false;
    (first || topError).focus();
  }
  topError.tabIndex = -1;

  // --- payload editors: live check and preview -----------------------------

  const checkSeq = { defaultPayload: 0, resolutionPayload: 0 };

  function payloadParts(field) {
    const box = dialog.querySelector(`[data-payload="${field}"]`);
    return {
      textarea: $(`#f-${field}`), check: $(`#f-${field}-check`), preview: $(`#f-${field}-preview`),
      trigger: box.dataset.trigger,
    };
  }

  function setCheck(el, text, kind) {
    el.textContent = text;
    el.className = `check ${kind || ''}`;
  }

  async function checkPayload(field) {
    const p = payloadParts(field);
    const seq = ++checkSeq[field];
    const template = p.textarea.value;
    const bytes = new TextEncoder().encode(template).length;
    if (template.trim() === '') {
      p.preview.textContent = '';
      if (field === 'resolutionPayload') {
        setFieldError(field, '');
        setCheck(p.check, 'Empty: recoveries send the alert payload.', 'muted');
      } else {
        setFieldError(field, 'is required');
        setCheck(p.check, '');
      }
      return;
    }
    if (bytes > payloadLimit[field]) {
      setFieldError(field, `has ${bytes} bytes; at most ${payloadLimit[field]} are allowed`);
      setCheck(p.check, '');
      p.preview.textContent = '';
      return;
    }
    let res;
    try {
      res = await api('POST', '/api/v1/payload/preview', { template, triggerType: p.trigger });
    } catch (err) {
      if (seq !== checkSeq[field] || !state) return;
      if (err.status === 400) {
        const e = err.errors.find((x) => x.field === 'template') || err.errors[0] || { message: err.message };
        setFieldError(field, e.message);
        setCheck(p.check, '');
        p.preview.textContent = 'No preview while the template has an error.';
      } else {
        setFieldError(field, '');
        setCheck(p.check, 'Preview unavailable right now; the payload is still checked when you test or save.', 'muted');
        p.preview.textContent = '';
      }
      return;
    }
    if (seq !== checkSeq[field] || !state) return;
    setFieldError(field, '');
    const unknown = (res && res.unknown) || [];
    if (unknown.length) {
      setCheck(p.check, `Valid JSON template. Not supported, so they render empty: ${unknown.map((n) => `{{${n}}}`).join(', ')}.`, 'warn');
    } else {
      setCheck(p.check, 'Valid JSON template.', 'good');
    }
    p.preview.textContent = pretty((res && res.rendered) || '');
  }

  const scheduled = {};
  for (const field of payloadFields) {
    const ta = $(`#f-${field}`);
    scheduled[field] = debounce(() => checkPayload(field), 350);
    ta.addEventListener('input', () => {
      if (state && !state.readOnly) scheduled[field]();
    });
    ta.addEventListener('focus', () => { lastPayload = ta; });
  }

  // --- variables ----------------------------------------------------------

  async function loadVariables() {
    if (variablesLoaded) return;
    const err = $('#vars-error');
    let res;
    try {
      res = await api('GET', '/api/v1/payload/variables');
    } catch {
      setMessage(err, 'The list of variables could not be loaded. docs/payload.md lists them.');
      return;
    }
    variablesLoaded = true;
    setMessage(err, '');
    const current = clear($('#var-list'));
    const legacy = clear($('#var-legacy'));
    for (const v of (res && res.data) || []) {
      const descId = `var-${v.name.replace(/[^A-Za-z0-9]/g, '-')}`;
      const item = h('li', {},
        h('button', {
          type: 'button', class: 'var', 'aria-describedby': descId,
          onclick: () => insertVariable(v.name),
        }, h('span', { class: 'visually-hidden' }, 'Insert '), h('code', {}, `{{${v.name}}}`)),
        h('span', { class: 'var-desc', id: descId },
          v.description, v.aliasOf ? ` Same as {{${v.aliasOf}}}.` : ''),
        v.example ? h('span', { class: 'var-example' }, 'e.g. ', h('code', {}, v.example)) : null);
      (v.legacy ? legacy : current).append(item);
    }
  }

  // insertVariable puts {{name}} at the cursor of the payload edited last;
  // for a field form it selects "fieldName", ready to be typed over.
  function insertVariable(name) {
    const ta = lastPayload;
    if (ta.disabled) return;
    const text = `{{${name}}}`;
    const start = ta.selectionStart;
    ta.setRangeText(text, start, ta.selectionEnd, 'end');
    const at = name.indexOf('fieldName');
    ta.focus();
    if (at >= 0) ta.setSelectionRange(start + 2 + at, start + 2 + at + 'fieldName'.length);
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  }

  // --- Test Alert / Test Recovery -----------------------------------------

  for (const button of testButtons) {
    button.addEventListener('click', () => runTest(button));
  }

  async function runTest(button) {
    if (!state) return;
    const functionality = button.dataset.functionality;
    const what = functionality === 'alert' ? 'Alert' : 'Recovery';
    clearErrors();
    for (const b of testButtons) b.disabled = true;
    button.setAttribute('aria-busy', 'true');
    clear(testResult).append(h('p', { class: 'muted' }, `Sending the test ${what.toLowerCase()}…`));
    let query = `functionalities=${functionality}`;
    if (state.id) query += `&connectionId=${encodeURIComponent(state.id)}`;
    const forType = state.type;
    try {
      const r = await api('POST', `/api/v1/connections/test?${query}`, definition());
      const attempt = (functionality === 'alert' ? r.alert : r.resolution) || { statusCode: r.statusCode, responseContent: r.responseContent };
      clear(testResult).append(resultView(what, attempt, forType));
    } catch (err) {
      clear(testResult);
      if (err.status === 400) {
        showErrors(err);
        testResult.append(h('p', { class: 'result fail' }, `Test ${what} was not sent: first fix the fields marked above.`));
      } else {
        testResult.append(h('p', { class: 'result fail' }, `Test ${what} could not run: ${err.message}`));
      }
    } finally {
      for (const b of testButtons) b.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  // --- open, fill, save -----------------------------------------------------

  function reset(readOnly) {
    form.reset();
    clearErrors();
    clear(testResult);
    urlNote.textContent = '';
    for (const field of payloadFields) {
      checkSeq[field]++;
      const p = payloadParts(field);
      setCheck(p.check, '');
      p.preview.textContent = '';
    }
    for (const el of form.querySelectorAll('input, textarea, select')) el.disabled = readOnly;
    testSection.hidden = readOnly;
    saveButton.hidden = readOnly;
    varsPanel.hidden = readOnly;
    cancelButton.textContent = readOnly ? 'Close' : 'Cancel';
    lastPayload = $('#f-defaultPayload');
  }

  function fill(type, conn, readOnly) {
    const kind = kindOf(type);
    state.kind = kind;
    $('#f-url-help').textContent = urlHelp[type] || '';
    nameInput.value = conn ? conn.name : '';
    $('#f-description').value = conn ? conn.description || '' : '';
    urlInput.value = conn ? conn.url : '';
    $('#f-defaultPayload').value = conn ? conn.defaultPayload || '' : starter.defaultPayload;
    $('#f-resolutionPayload').value = conn ? conn.resolutionPayload || '' : starter.resolutionPayload;
    renderTypeFields(kind, conn);
    renderHeaders((conn && conn.customHeaders) || [], readOnly);
    for (const el of typeBox.querySelectorAll('input, select')) el.disabled = readOnly;
    if (!readOnly) {
      for (const field of payloadFields) checkPayload(field);
    }
  }

  function openDialog(path) {
    opener = document.activeElement;
    if (location.pathname + location.search !== path) history.replaceState(null, '', path);
    if (!dialog.open) dialog.showModal();
  }

  function openNew(type) {
    state = { mode: 'create', type, id: '', readOnly: false };
    reset(false);
    title.textContent = 'Create Connection';
    subtitle.textContent = typeName(type);
    fill(type, null, false);
    loadVariables();
    openDialog(`/ui/connections/new?type=${encodeURIComponent(type)}`);
    nameInput.focus();
  }

  async function openEdit(id, readOnly) {
    state = { mode: readOnly ? 'view' : 'edit', type: '', id, readOnly };
    const mine = state;
    reset(readOnly);
    title.textContent = readOnly ? 'Connection' : 'Edit Connection';
    subtitle.textContent = '';
    loading.hidden = false;
    openDialog(`/ui/connections/${id}`);
    if (!readOnly) loadVariables();
    let conn;
    try {
      conn = await api('GET', `/api/v1/connections/${encodeURIComponent(id)}`);
    } catch (err) {
      loading.hidden = true;
      if (state !== mine) return;
      dialog.close();
      onMissing(err.status === 404 ? 'That connection no longer exists.' : `The connection could not be loaded: ${err.message}`);
      return;
    }
    loading.hidden = true;
    if (state !== mine) return;
    state.type = conn.webhookType;
    state.conn = conn;
    subtitle.textContent = `${conn.name} · ${typeName(conn.webhookType)}`;
    fill(conn.webhookType, conn, readOnly);
    (readOnly ? cancelButton : nameInput).focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!state || state.readOnly) return;
    clearErrors();
    saveButton.disabled = true;
    saveButton.setAttribute('aria-busy', 'true');
    const creating = state.mode === 'create';
    try {
      const d = definition();
      const saved = creating
        ? await api('POST', '/api/v1/connections', d)
        : await api('PUT', `/api/v1/connections/${encodeURIComponent(state.id)}`, d);
      dialog.close();
      onSaved(saved, creating);
    } catch (err) {
      if (err.status === 400 || err.status === 409) {
        showErrors(err);
      } else {
        clear(topError).append(h('p', {}, `Not saved: ${err.message}`));
        topError.hidden = false;
        topError.focus();
      }
    } finally {
      saveButton.disabled = false;
      saveButton.removeAttribute('aria-busy');
    }
  });

  return { openNew, openEdit };
}

// pretty indents JSON text for reading, and leaves anything else as it is.
function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// resultView shows one test: the status in words, the latency, what the
// target answered and the request as it was sent (secrets redacted).
function resultView(what, a, type) {
  const code = a.statusCode || 0;
  const ok = code >= 200 && code < 300 && !a.failed;
  const head = code ? `Test ${what}: ${statusLine(code)}` : `Test ${what}: no answer`;
  const latency = a.latencyMs ? formatMs(a.latencyMs) : '';
  const box = h('div', { class: `result ${ok ? 'ok' : 'fail'}` },
    h('p', { class: 'result-head' }, h('strong', {}, head), latency ? h('span', { class: 'latency' }, ` · ${latency}`) : null),
    h('p', { class: 'result-explain' }, explain(a, type)));
  const said = targetMessage(a.responseContent);
  if (code && said) box.append(h('p', { class: 'target-says' }, 'The target says: ', h('q', {}, said)));
  if ((!code || a.failed) && a.error) box.append(h('p', { class: 'target-says' }, 'Details: ', h('code', {}, a.error)));
  if (code) {
    box.append(h('h4', {}, 'Response body'),
      h('pre', { class: 'code', tabindex: '0' }, a.responseContent ? pretty(a.responseContent) : '(empty)'));
    if (a.responseTruncated) box.append(h('p', { class: 'muted' }, 'Only the first 64 KiB of the answer are kept.'));
  }
  const req = a.request;
  if (req && req.method) {
    const lines = [`${req.method} ${req.url}`, ...(req.headers || []).map((hd) => `${hd.name}: ${hd.value}`), '', req.body || ''];
    box.append(h('details', { class: 'sent' },
      h('summary', {}, 'Request as sent (secrets redacted)'),
      h('pre', { class: 'code', tabindex: '0' }, lines.join('\n'))));
  }
  return box;
}

// explain says in words what a test's outcome means and what to check.
function explain(a, type) {
  const code = a.statusCode || 0;
  if (code === 0) {
    const e = a.error || a.responseContent || '';
    if (/timeout|deadline|no answer within/i.test(e)) {
      return 'The target did not answer in time (timeout). Check the URL, and that the target is running and reachable from the Hookline server.';
    }
    if (/connection refused/i.test(e)) {
      return 'Nothing accepted the connection (connection refused): no server is listening at that host and port.';
    }
    if (/no such host|lookup/i.test(e)) return 'The host name could not be found (DNS). Check the URL\'s host.';
    if (/may not reach|allow-targets|allow-private-targets/i.test(e)) {
      return 'Hookline\'s rules do not let connections reach this address.';
    }
    if (/certificate|x509|tls/i.test(e)) return 'The secure connection failed: the target\'s TLS certificate was not accepted.';
    if (/render|template|payload/i.test(e)) return 'The payload could not be rendered, so nothing was sent.';
    return 'The request got no answer.';
  }
  if (code >= 200 && code < 300 && a.failed) {
    return 'The target answered, but reported that the work failed (a Lambda function\'s error). A real delivery would not be tried again: fix the function or the payload.';
  }
  if (code >= 200 && code < 300) return 'The target accepted the request.';
  if (code >= 300 && code < 400) return 'The target answered with a redirect, which Hookline does not follow: use the final URL.';
  if (code === 401 || code === 403) {
    return type === 'AWSLambda'
      ? 'The target refused the request. Check the Access Key ID, the Secret Access Key, the region and the service name, and that the IAM user may invoke this function URL or API (lambda:InvokeFunctionUrl, or execute-api:Invoke).'
      : 'The target refused the request: check the Authorization header or other credentials it expects.';
  }
  if (code === 404) return 'The target has nothing at this URL. Check the URL and its path.';
  if (code === 408 || code === 429 || code >= 500) {
    return 'The target failed or is busy. A real delivery would be tried again later.';
  }
  return 'The target did not accept the request. A real delivery would not be tried again: check the payload and the URL.';
}

// targetMessage finds the human message in a target's answer: AWS and most
// APIs answer errors as {"message": "..."}.
function targetMessage(body) {
  if (!body) return '';
  try {
    const v = JSON.parse(body);
    if (v && typeof v === 'object') {
      for (const k of ['message', 'Message', 'errorMessage', 'error', 'detail']) {
        if (typeof v[k] === 'string' && v[k]) return v[k];
      }
    }
    return '';
  } catch {
    const t = body.trim();
    return t.length > 0 && t.length <= 300 && !t.startsWith('<') ? t : '';
  }
}
