// 注文 (/trade/order): in the mandatory phase a password session confirms
// with a passkey (「パスキーで本人確認」) before ordering (P2).

import { bindStepUp } from './stepup.js';

bindStepUp();
