// Passkey confirmation of an important operation (SPEC P2, P7), shared by
// the operation pages. The page provides #stepup-button with
// data-operation (a policy key such as "withdraw"), data-details (the
// operation's details as JSON, "{}" for none) and optionally data-form (the
// id of the form to submit once confirmed; without it the page reloads),
// #stepup-status (live region) and the #msg-* sentences.
//
// The flow: POST /api/step-up/passkey/options {operation, details} →
// navigator.credentials.get → POST /api/step-up/passkey → submit the form.
// For a withdrawal or a bank-account change the challenge is bound to the
// details, so the server accepts the form only with exactly those details.

import {
  classify,
  credentialToJSON,
  message,
  postJSON,
  requestOptionsFromJSON,
  setStatus,
  showFailure,
  webAuthnSupported,
} from './webauthn.js';

/** parseDetails reads a data-details value; anything but a JSON object is {}. */
export function parseDetails(text) {
  if (!text) {
    return {};
  }
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/**
 * runStepUp runs one passkey step-up for operation and its details through
 * the JSON API and resolves to the server's answer ({operation}). onPrompt
 * receives the server's one-line summary of what is being confirmed, just
 * before the browser asks for the passkey. credentials and post are
 * injectable for tests.
 */
export async function runStepUp({ operation, details = {}, onPrompt, credentials, post = postJSON } = {}) {
  const creds = credentials || navigator.credentials;
  const opts = await post('/api/step-up/passkey/options', { operation, details });
  if (!opts || !opts.publicKey) {
    throw new DOMException('no options', 'NotAllowedError');
  }
  if (onPrompt) {
    onPrompt(typeof opts.summary === 'string' ? opts.summary : '');
  }
  const cred = await creds.get({ publicKey: requestOptionsFromJSON(opts.publicKey) });
  if (!cred) {
    throw new DOMException('no credential', 'NotAllowedError');
  }
  return post('/api/step-up/passkey', credentialToJSON(cred));
}

function setBusy(button, on) {
  if (on) {
    button.setAttribute('aria-disabled', 'true');
    button.setAttribute('aria-busy', 'true');
  } else {
    button.removeAttribute('aria-disabled');
    button.removeAttribute('aria-busy');
  }
}

/** bindStepUp wires the page's #stepup-button, if it has one. */
export function bindStepUp(doc = document) {
  const button = doc.getElementById('stepup-button');
  if (!button) {
    return;
  }
  const status = doc.getElementById('stepup-status');
  if (!webAuthnSupported()) {
    button.disabled = true;
    setStatus(status, message('unsupported'), 'error');
    return;
  }
  let busy = false;
  button.addEventListener('click', async () => {
    if (busy) {
      return;
    }
    busy = true;
    setBusy(button, true);
    setStatus(status, message('working'));
    try {
      await runStepUp({
        operation: button.dataset.operation || '',
        details: parseDetails(button.dataset.details),
        onPrompt: (summary) => {
          if (summary) {
            setStatus(status, message('stepup-confirming') + ' ' + summary);
          }
        },
      });
      const form = button.dataset.form ? doc.getElementById(button.dataset.form) : null;
      if (form) {
        setStatus(status, message('stepup-sending'), 'success');
        form.submit();
      } else {
        setStatus(status, message('stepup-done'), 'success');
        location.reload();
      }
      return; // leaving the page
    } catch (err) {
      showFailure(status, classify(err));
    }
    busy = false;
    setBusy(button, false);
  });
  // Back from the next page: the button works again.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) {
      busy = false;
      setBusy(button, false);
      setStatus(status, '');
    }
  });
}
