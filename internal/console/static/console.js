// kagi operator console: passkey login and enrollment (plain ES module, no
// bundler, nothing loaded from elsewhere). Everything else in the console is
// plain HTML forms.

function b64uToBuf(s) {
  let b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  b64 += '==='.slice(0, (4 - (b64.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function bufToB64u(buf) {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function creationOptions(json) {
  const P = window.PublicKeyCredential;
  if (P && typeof P.parseCreationOptionsFromJSON === 'function') {
    try { return P.parseCreationOptionsFromJSON(json); } catch { /* fall back */ }
  }
  const o = { ...json, challenge: b64uToBuf(json.challenge), user: { ...json.user, id: b64uToBuf(json.user.id) } };
  if (json.excludeCredentials) o.excludeCredentials = json.excludeCredentials.map((d) => ({ ...d, id: b64uToBuf(d.id) }));
  return o;
}

function requestOptions(json) {
  const P = window.PublicKeyCredential;
  if (P && typeof P.parseRequestOptionsFromJSON === 'function') {
    try { return P.parseRequestOptionsFromJSON(json); } catch { /* fall back */ }
  }
  const o = { ...json, challenge: b64uToBuf(json.challenge) };
  if (json.allowCredentials) o.allowCredentials = json.allowCredentials.map((d) => ({ ...d, id: b64uToBuf(d.id) }));
  return o;
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === 'function') {
    try {
      const j = cred.toJSON();
      if (j && j.response) return j;
    } catch { /* fall back */ }
  }
  const r = cred.response;
  const out = { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, clientExtensionResults: {} };
  if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
  if ('attestationObject' in r) {
    out.response = {
      clientDataJSON: bufToB64u(r.clientDataJSON),
      attestationObject: bufToB64u(r.attestationObject),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
    };
  } else {
    out.response = {
      clientDataJSON: bufToB64u(r.clientDataJSON),
      authenticatorData: bufToB64u(r.authenticatorData),
      signature: bufToB64u(r.signature),
    };
    if (r.userHandle && r.userHandle.byteLength > 0) out.response.userHandle = bufToB64u(r.userHandle);
  }
  return out;
}

class Problem extends Error {
  constructor(status, code, detail) {
    super(detail || code || 'HTTP ' + status);
    this.name = 'Problem';
    this.detail = detail || '';
  }
}

async function post(url, body) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', mode: 'same-origin', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify(body === undefined ? {} : body),
    });
  } catch (e) {
    const err = new Error('network');
    err.name = 'NetworkError';
    throw err;
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new Problem(res.status, data && data.code, data && data.detail);
  return data;
}

function msg(key) {
  const el = document.getElementById('msg-' + key);
  return el ? el.textContent.trim() : '';
}

function show(el, text, kind) {
  if (!el) return;
  el.textContent = text || '';
  if (kind) el.dataset.kind = kind; else delete el.dataset.kind;
}

function explain(err) {
  if (err && err.name === 'Problem') return err.detail || msg('failed');
  switch (err && err.name) {
    case 'NotAllowedError': return msg('cancelled');
    case 'InvalidStateError': return msg('exists') || msg('failed');
    case 'NotSupportedError': return msg('unsupported');
    case 'NetworkError': return msg('network');
  }
  return msg('failed');
}

function supported() {
  return typeof window.PublicKeyCredential === 'function' && navigator.credentials && typeof navigator.credentials.get === 'function';
}

function setupLogin() {
  const button = document.getElementById('operator-login');
  const status = document.getElementById('login-status');
  if (!button) return;
  let busy = false;
  button.addEventListener('click', async () => {
    if (busy) return;
    if (!supported()) { show(status, msg('unsupported'), 'error'); return; }
    busy = true;
    button.setAttribute('aria-busy', 'true');
    show(status, msg('working'), 'info');
    try {
      const opts = await post('/api/login/options');
      const cred = await navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) });
      const res = await post('/api/login', credentialJSON(cred));
      location.assign(res && res.next ? res.next : '/');
    } catch (err) {
      show(status, explain(err), 'error');
    } finally {
      busy = false;
      button.removeAttribute('aria-busy');
    }
  });
}

function setupEnroll() {
  const form = document.getElementById('enroll-form');
  const status = document.getElementById('enroll-status');
  if (!form) return;
  let busy = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    if (!supported()) { show(status, msg('unsupported'), 'error'); return; }
    busy = true;
    show(status, msg('working'), 'info');
    try {
      const name = form.elements.name.value.trim();
      const code = form.elements.code.value.trim();
      const opts = await post('/api/enroll/options', { name, code });
      const cred = await navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) });
      const res = await post('/api/enroll', credentialJSON(cred));
      location.assign(res && res.next ? res.next : '/');
    } catch (err) {
      show(status, explain(err), 'error');
    } finally {
      busy = false;
    }
  });
}

setupLogin();
setupEnroll();
