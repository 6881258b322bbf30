// Login page: "パスキーでログイン" (K5), a discoverable-credential ceremony
// with no customer code, and passkeys offered by autofill in the customer
// code field (conditional mediation) where the browser supports it.

import {
  ProblemError,
  classify,
  credentialToJSON,
  message,
  postJSON,
  requestOptionsFromJSON,
  setStatus,
  showFailure,
  webAuthnSupported,
} from './webauthn.js';

const button = document.getElementById('passkey-login');
const status = document.getElementById('passkey-status');

// Ceremonies expire on the server after 5 minutes; a pending autofill
// request is renewed before that so that a late choice still works.
const CONDITIONAL_REFRESH_MS = 4 * 60 * 1000;
// Re-arming after failures stops after this many in a row.
const MAX_REARMS = 5;

let busy = false;
let conditional = null; // {controller, done, timer}
let rearms = 0;

function setBusy(on) {
  busy = on;
  if (!button) {
    return;
  }
  if (on) {
    button.setAttribute('aria-disabled', 'true');
    button.setAttribute('aria-busy', 'true');
  } else {
    button.removeAttribute('aria-disabled');
    button.removeAttribute('aria-busy');
  }
}

function signalUnknown(credentialId) {
  const P = window.PublicKeyCredential;
  if (!P || typeof P.signalUnknownCredential !== 'function' || !credentialId) {
    return;
  }
  try {
    Promise.resolve(P.signalUnknownCredential({ rpId: location.hostname, credentialId })).catch(() => {});
  } catch {
    // a hint only
  }
}

// finish sends the assertion and, when the server accepts it, leaves the page.
async function finish(cred) {
  setStatus(status, message('logging-in'));
  try {
    await postJSON('/api/login/passkey', credentialToJSON(cred));
  } catch (err) {
    if ((err instanceof ProblemError || (err && err.name === 'ProblemError')) && err.code === 'passkey_unknown') {
      signalUnknown(cred.id);
    }
    throw err;
  }
  // {"next":"done"}: the account page sends the customer on from there.
  location.assign('/account');
}

async function stopConditional() {
  const c = conditional;
  if (!c) {
    return;
  }
  conditional = null;
  clearTimeout(c.timer);
  c.controller.abort();
  try {
    await c.done;
  } catch {
    // settled
  }
}

async function conditionalAvailable() {
  const P = window.PublicKeyCredential;
  if (!P || typeof P.isConditionalMediationAvailable !== 'function') {
    return false;
  }
  try {
    return (await P.isConditionalMediationAvailable()) === true;
  } catch {
    return false;
  }
}

// armConditional starts an autofill request that waits until the customer
// picks a passkey in the customer code field.
async function armConditional() {
  if (conditional || busy || !(await conditionalAvailable()) || conditional || busy) {
    return;
  }
  const controller = new AbortController();
  const c = { controller, done: null, timer: 0 };
  let rearm = false;
  c.done = (async () => {
    let cred = null;
    try {
      const opts = await postJSON('/api/login/passkey/options', { mediation: 'conditional' });
      if (controller.signal.aborted) {
        return;
      }
      cred = await navigator.credentials.get({
        publicKey: requestOptionsFromJSON(opts.publicKey),
        mediation: 'conditional',
        signal: controller.signal,
      });
      if (!cred || controller.signal.aborted) {
        return;
      }
      clearTimeout(c.timer);
      setBusy(true);
      await finish(cred);
      rearms = 0;
    } catch (err) {
      if (controller.signal.aborted) {
        return; // the button's request or a refresh took over
      }
      setBusy(false);
      const cls = classify(err);
      if (cred) {
        // The customer chose a passkey and it did not work: say why, offer autofill again.
        showFailure(status, cls);
        rearm = true;
      } else if (cls.kind === 'problem') {
        showFailure(status, cls);
      }
      // Otherwise the browser ended the request on its own; the button still works.
    }
  })();
  c.timer = setTimeout(() => {
    if (conditional === c && !busy) {
      stopConditional().then(armConditional);
    }
  }, CONDITIONAL_REFRESH_MS);
  conditional = c;
  await c.done;
  if (conditional === c) {
    clearTimeout(c.timer);
    conditional = null;
  }
  if (rearm && rearms < MAX_REARMS) {
    rearms++;
    armConditional();
  }
}

async function modalLogin() {
  if (busy) {
    return;
  }
  setBusy(true);
  setStatus(status, message('working'));
  // Only one WebAuthn request may be pending: end the autofill one first.
  await stopConditional();
  let cred = null;
  try {
    const opts = await postJSON('/api/login/passkey/options', {});
    cred = await navigator.credentials.get({ publicKey: requestOptionsFromJSON(opts.publicKey) });
    if (!cred) {
      throw new DOMException('no credential', 'NotAllowedError');
    }
    await finish(cred);
    return; // leaving the page
  } catch (err) {
    showFailure(status, classify(err));
  }
  setBusy(false);
  if (rearms < MAX_REARMS) {
    rearms++;
    armConditional();
  }
}

if (button && !button.disabled) {
  if (!webAuthnSupported()) {
    button.disabled = true;
    setStatus(status, message('unsupported'), 'error');
  } else {
    button.addEventListener('click', modalLogin);
    armConditional();
    // End the autofill request when the customer leaves: the browser may
    // keep it alive and refuse the next page's request as "already pending".
    window.addEventListener('pagehide', () => {
      stopConditional();
    });
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) {
        setBusy(false);
        setStatus(status, '');
        armConditional();
      }
    });
  }
}
