// 登録情報照会 (/account): Signal API (K11) and the passkey offer card
// (K12): the same registration as the passkeys page, and a conditional
// create where the browser supports it and the customer opted in once on
// this browser by creating a passkey for a device they do not share.

import { signalFromPage } from './webauthn.js';
import { OPT_IN_KEY, bindRegistration, createPasskey } from './register.js';

signalFromPage();

function readOptIn() {
  try {
    return window.localStorage.getItem(OPT_IN_KEY);
  } catch {
    return null; // storage disabled
  }
}

function writeOptIn(choice) {
  try {
    if (choice === 'no') {
      window.localStorage.setItem(OPT_IN_KEY, '1');
    } else {
      // Never create passkeys silently on a device the customer shares.
      window.localStorage.removeItem(OPT_IN_KEY);
    }
  } catch {
    // storage disabled: no conditional create later, nothing else changes
  }
}

let pending = null; // the conditional create in progress: {controller, done}

async function stopConditional() {
  if (!pending) {
    return;
  }
  const p = pending;
  pending = null;
  p.controller.abort();
  try {
    await p.done;
  } catch {
    // settled
  }
}

async function conditionalCreate() {
  if (readOptIn() !== '1') {
    return;
  }
  const P = window.PublicKeyCredential;
  if (!P || typeof P.getClientCapabilities !== 'function' || !navigator.credentials) {
    return;
  }
  let caps;
  try {
    caps = await P.getClientCapabilities();
  } catch {
    return;
  }
  if (!caps || caps.conditionalCreate !== true) {
    return;
  }
  const controller = new AbortController();
  const done = createPasskey({ shared: false, mediation: 'conditional', signal: controller.signal });
  pending = { controller, done };
  try {
    await done;
  } catch {
    return; // silent: the offer card stays
  } finally {
    if (pending && pending.controller === controller) {
      pending = null;
    }
  }
  if (!controller.signal.aborted) {
    location.replace('/account?m=passkey_added');
  }
}

if (document.getElementById('passkey-offer')) {
  bindRegistration({
    beforeStart: async (choice) => {
      writeOptIn(choice);
      await stopConditional();
    },
    onSuccess: () => location.assign('/account/passkeys?m=passkey_added'),
    // Re-verification lives on the passkeys page.
    onStepUp: () => location.assign('/account/passkeys'),
  });
  conditionalCreate();
  // End a pending request when the customer leaves: the browser may keep it
  // alive and refuse the next page's request as "already pending".
  window.addEventListener('pagehide', () => {
    stopConditional();
  });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) {
      conditionalCreate();
    }
  });
}
