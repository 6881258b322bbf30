// パスキー登録・一覧 (/account/passkeys): Signal API at every load (K11) and
// the registration button.

import { signalFromPage } from './webauthn.js';
import { bindRegistration } from './register.js';

signalFromPage();

bindRegistration({
  onSuccess: () => location.assign('/account/passkeys?m=passkey_added'),
  // The page then shows the re-verification form.
  onStepUp: () => location.assign('/account/passkeys'),
});
