// Passkey registration, shared by the passkeys page and the account page's
// offer card (K12). The page provides #passkey-register (button),
// #passkey-register-status (live region), radios name="shared" (K14), an
// optional #passkey-name and the #msg-* sentences.

import {
  ProblemError,
  classify,
  creationOptionsFromJSON,
  credentialToJSON,
  message,
  postJSON,
  setStatus,
  showFailure,
  userVerifyingPlatformAuthenticator,
  webAuthnSupported,
} from './webauthn.js';

/** OPT_IN_KEY is the localStorage key that allows conditional create (K12). */
export const OPT_IN_KEY = 'kagi.passkeyOptIn';

/**
 * createPasskey runs one registration ceremony through the JSON API:
 * options, navigator.credentials.create, then the result. shared says
 * whether the customer called this device shared; name is optional;
 * mediation 'conditional' asks for a conditional create. onCreated is
 * called once the authenticator has made the credential.
 */
export async function createPasskey({ shared, name = '', mediation, signal, onCreated } = {}) {
  const body = { shared: !!shared };
  if (mediation) {
    body.mediation = mediation;
  }
  const opts = await postJSON('/api/passkeys/options', body);
  if (signal && signal.aborted) {
    throw new DOMException('aborted', 'AbortError');
  }
  const req = { publicKey: creationOptionsFromJSON(opts.publicKey) };
  if (mediation) {
    req.mediation = mediation;
  }
  if (signal) {
    req.signal = signal;
  }
  const cred = await navigator.credentials.create(req);
  if (!cred) {
    throw new DOMException('no credential', 'NotAllowedError');
  }
  if (onCreated) {
    onCreated();
  }
  let url = '/api/passkeys';
  if (name) {
    url += '?name=' + encodeURIComponent(name);
  }
  return postJSON(url, credentialToJSON(cred));
}

/** sharedChoice returns "yes", "no" or "" (not answered). */
export function sharedChoice(doc = document) {
  const checked = doc.querySelector('input[name="shared"]:checked');
  return checked ? checked.value : '';
}

/**
 * bindRegistration wires the page's register button. onSuccess runs after
 * the server stored the passkey; onStepUp when the server wants the customer
 * to re-verify first; beforeStart(choice) runs before the ceremony starts
 * (after the shared question was answered). Returns false when the page has
 * no register button.
 */
export function bindRegistration({ onSuccess, onStepUp, beforeStart } = {}) {
  const button = document.getElementById('passkey-register');
  if (!button) {
    return false;
  }
  const status = document.getElementById('passkey-register-status');
  const nameInput = document.getElementById('passkey-name');

  if (!webAuthnSupported()) {
    button.disabled = true;
    setStatus(status, message('unsupported'), 'error');
    return true;
  }

  let busy = false;
  const setBusy = (on) => {
    busy = on;
    if (on) {
      button.setAttribute('aria-disabled', 'true');
      button.setAttribute('aria-busy', 'true');
    } else {
      button.removeAttribute('aria-disabled');
      button.removeAttribute('aria-busy');
    }
  };

  // Answering the question clears the "please answer" message.
  for (const radio of document.querySelectorAll('input[name="shared"]')) {
    radio.addEventListener('change', () => {
      if (status && status.dataset.kind === 'error') {
        setStatus(status, '');
      }
    });
  }

  button.addEventListener('click', async () => {
    if (busy) {
      return;
    }
    const choice = sharedChoice();
    if (!choice) {
      setStatus(status, message('choose-shared'), 'error');
      const first = document.querySelector('input[name="shared"]');
      if (first) {
        first.focus();
      }
      return;
    }
    setBusy(true);
    setStatus(status, message('working'));
    let keepBusy = false;
    try {
      if (beforeStart) {
        await beforeStart(choice);
      }
      const name = nameInput ? nameInput.value.trim() : '';
      await createPasskey({
        shared: choice === 'yes',
        name,
        onCreated: () => setStatus(status, message('saving')),
      });
      setStatus(status, message('added'), 'success');
      keepBusy = true;
      if (onSuccess) {
        onSuccess();
      }
    } catch (err) {
      if ((err instanceof ProblemError || (err && err.name === 'ProblemError')) && err.code === 'step_up_required' && onStepUp) {
        keepBusy = true;
        onStepUp();
        return;
      }
      let uvpaa;
      if (err && err.name === 'NotAllowedError') {
        uvpaa = await userVerifyingPlatformAuthenticator();
      }
      showFailure(status, classify(err, { registering: true, uvpaa }));
    } finally {
      if (!keepBusy) {
        setBusy(false);
      }
    }
  });

  // Enter in the name field starts the same flow (not while an IME is
  // composing Japanese text).
  if (nameInput) {
    nameInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        button.click();
      }
    });
  }

  // Coming back through the back/forward cache: the page is usable again.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) {
      setBusy(false);
      setStatus(status, '');
    }
  });
  return true;
}
