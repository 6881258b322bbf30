// 出金内容の確認 (POST /trade/withdraw/confirm): 「パスキーで確認して出金する」
// confirms the amount and destination shown (P7), then submits the form.

import { bindStepUp } from './stepup.js';

bindStepUp();
