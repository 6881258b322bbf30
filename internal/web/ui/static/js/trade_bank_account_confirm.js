// 出金先口座の変更の確認 (POST /trade/bank-account/confirm): 「パスキーで確認して
// 変更する」 confirms the new account shown (P7), then submits the form.

import { bindStepUp } from './stepup.js';

bindStepUp();
