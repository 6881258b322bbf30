// メールアドレスの変更 (/account/email): in the mandatory phase a password
// session confirms with a passkey before the change (P2).

import { bindStepUp } from './stepup.js';

bindStepUp();
