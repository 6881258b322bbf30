// Shared WebAuthn helpers for kagi's pages (plain ES module, no bundler).
//
// JSON ↔ WebAuthn: the browser's own PublicKeyCredential.parse*OptionsFromJSON
// and credential.toJSON() are used where present; the fallbacks below follow
// the W3C WebAuthn Level 3 JSON serialization (base64url without padding).
// Nothing here touches the DOM or a global at import time, so the module can
// be tested in Node.

// ---------- base64url ----------

/** base64urlToBuffer decodes base64url (padding optional) into an ArrayBuffer. */
export function base64urlToBuffer(s) {
  if (typeof s !== 'string') {
    throw new TypeError('base64url: expected a string');
  }
  let b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  b64 = b64.replace(/=+$/, '');
  if (b64.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(b64)) {
    throw new TypeError('base64url: invalid input');
  }
  b64 += '==='.slice(0, (4 - (b64.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    bytes[i] = bin.charCodeAt(i);
  }
  return bytes.buffer;
}

/** bufferToBase64url encodes an ArrayBuffer or a typed array/DataView as base64url without padding. */
export function bufferToBase64url(buf) {
  let bytes;
  if (buf instanceof ArrayBuffer) {
    bytes = new Uint8Array(buf);
  } else if (ArrayBuffer.isView(buf)) {
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } else {
    throw new TypeError('base64url: expected an ArrayBuffer or a view of one');
  }
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function isBinary(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/** toJSONValue turns extension outputs into JSON: every ArrayBuffer becomes base64url. */
export function toJSONValue(v) {
  if (isBinary(v)) {
    return bufferToBase64url(v);
  }
  if (Array.isArray(v)) {
    return v.map(toJSONValue);
  }
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== undefined) {
        out[k] = toJSONValue(x);
      }
    }
    return out;
  }
  return v;
}

function mapCredentialDescriptors(list) {
  if (!Array.isArray(list)) {
    return list;
  }
  return list.map((d) => ({ ...d, id: base64urlToBuffer(d.id) }));
}

// ---------- options (server JSON → WebAuthn) ----------

/** creationOptionsFromJSONFallback converts PublicKeyCredentialCreationOptionsJSON by hand. */
export function creationOptionsFromJSONFallback(json) {
  const o = { ...json };
  o.challenge = base64urlToBuffer(json.challenge);
  o.user = { ...json.user, id: base64urlToBuffer(json.user.id) };
  if (json.excludeCredentials) {
    o.excludeCredentials = mapCredentialDescriptors(json.excludeCredentials);
  }
  return o;
}

/** requestOptionsFromJSONFallback converts PublicKeyCredentialRequestOptionsJSON by hand. */
export function requestOptionsFromJSONFallback(json) {
  const o = { ...json };
  o.challenge = base64urlToBuffer(json.challenge);
  if (json.allowCredentials) {
    o.allowCredentials = mapCredentialDescriptors(json.allowCredentials);
  }
  return o;
}

function pkc() {
  return typeof PublicKeyCredential === 'undefined' ? undefined : PublicKeyCredential;
}

/** creationOptionsFromJSON prefers PublicKeyCredential.parseCreationOptionsFromJSON. */
export function creationOptionsFromJSON(json) {
  const P = pkc();
  if (P && typeof P.parseCreationOptionsFromJSON === 'function') {
    try {
      return P.parseCreationOptionsFromJSON(json);
    } catch {
      // fall through: some implementations reject members they do not know
    }
  }
  return creationOptionsFromJSONFallback(json);
}

/** requestOptionsFromJSON prefers PublicKeyCredential.parseRequestOptionsFromJSON. */
export function requestOptionsFromJSON(json) {
  const P = pkc();
  if (P && typeof P.parseRequestOptionsFromJSON === 'function') {
    try {
      return P.parseRequestOptionsFromJSON(json);
    } catch {
      // fall through
    }
  }
  return requestOptionsFromJSONFallback(json);
}

// ---------- credentials (WebAuthn → server JSON) ----------

function callOptional(obj, name) {
  if (obj && typeof obj[name] === 'function') {
    try {
      return obj[name]();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function commonJSON(cred) {
  const out = {
    id: cred.id,
    rawId: bufferToBase64url(cred.rawId),
    type: cred.type,
    clientExtensionResults: toJSONValue(callOptional(cred, 'getClientExtensionResults') || {}),
  };
  if (cred.authenticatorAttachment) {
    out.authenticatorAttachment = cred.authenticatorAttachment;
  }
  return out;
}

/** registrationToJSON builds a RegistrationResponseJSON from a created credential. */
export function registrationToJSON(cred) {
  const r = cred.response;
  const response = {
    clientDataJSON: bufferToBase64url(r.clientDataJSON),
    attestationObject: bufferToBase64url(r.attestationObject),
    transports: callOptional(r, 'getTransports') || [],
  };
  const authData = callOptional(r, 'getAuthenticatorData');
  if (isBinary(authData)) {
    response.authenticatorData = bufferToBase64url(authData);
  }
  const publicKey = callOptional(r, 'getPublicKey');
  if (isBinary(publicKey)) {
    response.publicKey = bufferToBase64url(publicKey);
  }
  const alg = callOptional(r, 'getPublicKeyAlgorithm');
  if (typeof alg === 'number') {
    response.publicKeyAlgorithm = alg;
  }
  return { ...commonJSON(cred), response };
}

/** authenticationToJSON builds an AuthenticationResponseJSON from an assertion. */
export function authenticationToJSON(cred) {
  const r = cred.response;
  const response = {
    clientDataJSON: bufferToBase64url(r.clientDataJSON),
    authenticatorData: bufferToBase64url(r.authenticatorData),
    signature: bufferToBase64url(r.signature),
  };
  if (isBinary(r.userHandle) && r.userHandle.byteLength > 0) {
    response.userHandle = bufferToBase64url(r.userHandle);
  }
  return { ...commonJSON(cred), response };
}

/** credentialToJSON prefers credential.toJSON() and falls back by response type. */
export function credentialToJSON(cred) {
  if (cred && typeof cred.toJSON === 'function') {
    try {
      const j = cred.toJSON();
      if (j && typeof j === 'object' && j.response) {
        return j;
      }
    } catch {
      // fall through: some password-manager extensions return objects whose toJSON throws
    }
  }
  if (cred.response && 'attestationObject' in cred.response) {
    return registrationToJSON(cred);
  }
  return authenticationToJSON(cred);
}

// ---------- HTTP ----------

/** ProblemError is an RFC 9457 problem answer of the JSON API. */
export class ProblemError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code || '';
    this.detail = detail || '';
  }
}

/** NetworkError is a request that got no answer from the server. */
export class NetworkError extends Error {
  constructor(cause) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

/**
 * postJSON POSTs body as JSON to a same-origin URL and returns the parsed
 * answer (null for an empty one). A non-2xx answer throws ProblemError, a
 * request without an answer NetworkError.
 */
export async function postJSON(url, body, fetchImpl = globalThis.fetch) {
  let res;
  let text;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      mode: 'same-origin',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify(body === undefined ? {} : body),
    });
    text = await res.text();
  } catch (e) {
    if (e && e.name === 'AbortError') {
      throw e;
    }
    throw new NetworkError(e);
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    throw new ProblemError(res.status, data && data.code, data && data.detail);
  }
  return data;
}

// ---------- feature detection ----------

/** webAuthnSupported reports whether this browser can run a WebAuthn ceremony at all. */
export function webAuthnSupported() {
  return (
    typeof window !== 'undefined' &&
    window.isSecureContext !== false &&
    typeof window.PublicKeyCredential === 'function' &&
    typeof navigator !== 'undefined' &&
    !!navigator.credentials &&
    typeof navigator.credentials.create === 'function' &&
    typeof navigator.credentials.get === 'function'
  );
}

/** userVerifyingPlatformAuthenticator resolves to true, false or undefined (unknown). */
export async function userVerifyingPlatformAuthenticator() {
  const P = pkc();
  if (!P || typeof P.isUserVerifyingPlatformAuthenticatorAvailable !== 'function') {
    return undefined;
  }
  try {
    return await P.isUserVerifyingPlatformAuthenticatorAvailable();
  } catch {
    return undefined;
  }
}

// ---------- error classification ----------

/**
 * classify maps a failure of a ceremony to what the page shows:
 * {kind: 'problem', detail} for a server problem (detail is already
 * localized), or {kind: 'message', key} for a sentence of the page
 * (#msg-<key>), or {kind: 'silent'} for an abort the page itself caused.
 * uvpaa is the result of isUserVerifyingPlatformAuthenticatorAvailable
 * (only consulted for a cancelled registration).
 */
export function classify(err, { registering = false, uvpaa } = {}) {
  if (err instanceof ProblemError || (err && err.name === 'ProblemError')) {
    if (err.detail) {
      return { kind: 'problem', code: err.code, detail: err.detail };
    }
    return { kind: 'message', code: err.code, key: 'failed' };
  }
  const name = err && err.name;
  switch (name) {
    case 'AbortError':
      return { kind: 'silent' };
    case 'NotAllowedError':
      if (registering && uvpaa === false) {
        return { kind: 'message', key: 'no-uv' };
      }
      return { kind: 'message', key: 'cancelled' };
    case 'InvalidStateError':
      return { kind: 'message', key: registering ? 'exists' : 'failed' };
    case 'NotSupportedError':
      return { kind: 'message', key: 'unsupported' };
    case 'NetworkError':
      return { kind: 'message', key: 'network' };
    default:
      return { kind: 'message', key: 'failed' };
  }
}

// ---------- page helpers (DOM, called only from page modules) ----------

/** message returns the page's sentence #msg-<key>, or '' when the page has none. */
export function message(key) {
  const el = document.getElementById('msg-' + key);
  return el ? el.textContent.trim() : '';
}

/**
 * setStatus writes text into a live region; kind ('info', 'error',
 * 'success' or '') becomes data-kind for the stylesheet.
 */
export function setStatus(el, text, kind = 'info') {
  if (!el) {
    return;
  }
  el.textContent = text || '';
  if (text && kind) {
    el.dataset.kind = kind;
  } else {
    delete el.dataset.kind;
  }
}

/** showFailure puts the classified failure into a status region. */
export function showFailure(el, c) {
  if (c.kind === 'silent') {
    setStatus(el, '');
  } else if (c.kind === 'problem') {
    setStatus(el, c.detail, 'error');
  } else {
    setStatus(el, message(c.key) || message('failed'), 'error');
  }
}

/** readSignalData reads the hidden #passkey-signal element, or null when it says nothing. */
export function readSignalData(doc = document) {
  const el = doc.getElementById('passkey-signal');
  if (!el) {
    return null;
  }
  const d = el.dataset;
  if (!d.rpId || !d.userId) {
    return null;
  }
  return {
    rpId: d.rpId,
    userId: d.userId,
    name: d.name || '',
    displayName: d.displayName || '',
    credentialIds: (d.credentialIds || '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}

/**
 * signalFromPage tells the browser's passkey provider, through the WebAuthn
 * Signal API where it exists, which passkeys this account still accepts and
 * the account's current names (K11). Failures are ignored.
 */
export async function signalFromPage(doc = document) {
  const P = pkc();
  const s = readSignalData(doc);
  if (!P || !s) {
    return;
  }
  const calls = [];
  if (typeof P.signalAllAcceptedCredentials === 'function') {
    calls.push(() => P.signalAllAcceptedCredentials({
      rpId: s.rpId,
      userId: s.userId,
      allAcceptedCredentialIds: s.credentialIds,
    }));
  }
  if (typeof P.signalCurrentUserDetails === 'function' && s.name) {
    calls.push(() => P.signalCurrentUserDetails({
      rpId: s.rpId,
      userId: s.userId,
      name: s.name,
      displayName: s.displayName || s.name,
    }));
  }
  for (const call of calls) {
    try {
      await call();
    } catch {
      // The Signal API is a hint; nothing to tell the customer.
    }
  }
}
