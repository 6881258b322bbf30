// Unit tests of static/js/stepup.js (the passkey confirmation of an
// important operation, SPEC P2/P7), run by TestJavaScriptUnits.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProblemError, classify } from '../../static/js/webauthn.js';
import { parseDetails, runStepUp } from '../../static/js/stepup.js';

const buf = (...xs) => new Uint8Array(xs).buffer;

function assertion() {
  return {
    id: 'AQI',
    rawId: buf(1, 2),
    type: 'public-key',
    response: { clientDataJSON: buf(3), authenticatorData: buf(4), signature: buf(5), userHandle: buf(6) },
    getClientExtensionResults: () => ({}),
  };
}

test('parseDetails keeps objects and refuses everything else', () => {
  assert.deepEqual(parseDetails('{"amount":100000}'), { amount: 100000 });
  assert.deepEqual(parseDetails('{}'), {});
  assert.deepEqual(parseDetails(''), {});
  assert.deepEqual(parseDetails(undefined), {});
  assert.deepEqual(parseDetails('[1]'), {});
  assert.deepEqual(parseDetails('null'), {});
  assert.deepEqual(parseDetails('not json'), {});
});

test('runStepUp sends the details, shows the summary before the prompt, then finishes', async () => {
  const calls = [];
  const order = [];
  const post = async (url, body) => {
    calls.push({ url, body });
    if (url === '/api/step-up/passkey/options') {
      return { publicKey: { challenge: 'AQID', allowCredentials: [{ type: 'public-key', id: 'AQI' }] }, summary: '出金 100,000円 → 銀行' };
    }
    return { operation: 'withdraw' };
  };
  const credentials = {
    get: async (req) => {
      order.push('get');
      assert.deepEqual(Array.from(new Uint8Array(req.publicKey.challenge)), [1, 2, 3]);
      assert.deepEqual(Array.from(new Uint8Array(req.publicKey.allowCredentials[0].id)), [1, 2]);
      return assertion();
    },
  };
  const got = await runStepUp({
    operation: 'withdraw',
    details: { amount: 100000 },
    onPrompt: (s) => order.push('prompt:' + s),
    credentials,
    post,
  });
  assert.deepEqual(got, { operation: 'withdraw' });
  assert.deepEqual(order, ['prompt:出金 100,000円 → 銀行', 'get']);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0], { url: '/api/step-up/passkey/options', body: { operation: 'withdraw', details: { amount: 100000 } } });
  assert.equal(calls[1].url, '/api/step-up/passkey');
  assert.equal(calls[1].body.id, 'AQI');
  assert.equal(calls[1].body.response.signature, 'BQ');
});

test('runStepUp: a cancelled prompt is NotAllowedError and nothing is finished', async () => {
  const calls = [];
  const post = async (url) => {
    calls.push(url);
    return { publicKey: { challenge: 'AQID' } };
  };
  const cancelled = { get: async () => { throw new DOMException('cancelled', 'NotAllowedError'); } };
  await assert.rejects(runStepUp({ operation: 'trade', credentials: cancelled, post }), (e) => {
    assert.deepEqual(classify(e), { kind: 'message', key: 'cancelled' });
    return true;
  });
  const none = { get: async () => null };
  await assert.rejects(runStepUp({ operation: 'trade', credentials: none, post }), { name: 'NotAllowedError' });
  assert.deepEqual(calls, ['/api/step-up/passkey/options', '/api/step-up/passkey/options']);
});

test('runStepUp: a refusal of the server shows its detail', async () => {
  const post = async () => {
    throw new ProblemError(403, 'cooling_off', '安全のため、2026年11月26日 09:30 以降にお手続きください。');
  };
  const credentials = { get: async () => assert.fail('no prompt after a refusal') };
  await assert.rejects(runStepUp({ operation: 'withdraw', details: { amount: 1 }, credentials, post }), (e) => {
    const c = classify(e);
    assert.equal(c.kind, 'problem');
    assert.equal(c.code, 'cooling_off');
    assert.match(c.detail, /2026年11月26日/);
    return true;
  });
});
