// Unit tests of static/js/webauthn.js and register.js, run by
// TestJavaScriptUnits (go test ./internal/web/ui) with node --test.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  NetworkError,
  ProblemError,
  authenticationToJSON,
  base64urlToBuffer,
  bufferToBase64url,
  classify,
  creationOptionsFromJSON,
  creationOptionsFromJSONFallback,
  credentialToJSON,
  postJSON,
  readSignalData,
  registrationToJSON,
  requestOptionsFromJSON,
  requestOptionsFromJSONFallback,
  signalFromPage,
  toJSONValue,
} from '../../static/js/webauthn.js';
import { createPasskey, sharedChoice } from '../../static/js/register.js';

const enc = new TextEncoder();
const bytes = (buf) => Array.from(new Uint8Array(buf));
const buf = (...xs) => new Uint8Array(xs).buffer;

test('base64url known vectors', () => {
  const cases = [
    [[], ''],
    [[0], 'AA'],
    [[0, 0], 'AAA'],
    [[0, 0, 0], 'AAAA'],
    [[0xfb, 0xff], '-_8'],
    [[0xff, 0xfe, 0xfd, 0xfc], '__79_A'],
    [Array.from(enc.encode('hello')), 'aGVsbG8'],
  ];
  for (const [raw, b64] of cases) {
    assert.equal(bufferToBase64url(new Uint8Array(raw).buffer), b64);
    assert.deepEqual(bytes(base64urlToBuffer(b64)), raw);
  }
});

test('base64url round-trips every length and byte', () => {
  for (let n = 0; n < 300; n++) {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = (i * 151 + n * 7) & 0xff;
    }
    const s = bufferToBase64url(a.buffer);
    assert.match(s, /^[A-Za-z0-9_-]*$/, 'no padding, no + or /');
    assert.deepEqual(bytes(base64urlToBuffer(s)), Array.from(a));
  }
  // A large buffer (more than one String.fromCharCode chunk).
  const big = new Uint8Array(100000).map((_, i) => i % 251);
  assert.deepEqual(new Uint8Array(base64urlToBuffer(bufferToBase64url(big))), big);
});

test('base64url accepts views, padding, and refuses garbage', () => {
  const whole = new Uint8Array([9, 1, 2, 3, 9]);
  assert.equal(bufferToBase64url(whole.subarray(1, 4)), bufferToBase64url(buf(1, 2, 3)));
  assert.equal(bufferToBase64url(new DataView(whole.buffer, 1, 3)), 'AQID');
  assert.deepEqual(bytes(base64urlToBuffer('AQID')), [1, 2, 3]);
  assert.deepEqual(bytes(base64urlToBuffer('AA==')), [0]);
  assert.throws(() => base64urlToBuffer('A'), TypeError);
  assert.throws(() => base64urlToBuffer('ab$c'), TypeError);
  assert.throws(() => base64urlToBuffer(null), TypeError);
  assert.throws(() => bufferToBase64url('text'), TypeError);
});

const creationJSON = {
  rp: { name: 'ホームトレード', id: 'localhost' },
  user: { id: 'dXNlci1oYW5kbGU', name: '1234567', displayName: '1234567' },
  challenge: 'Y2hhbGxlbmdl',
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }, { type: 'public-key', alg: -8 }],
  timeout: 300000,
  excludeCredentials: [{ type: 'public-key', id: 'AQID', transports: ['internal', 'hybrid'] }],
  authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
  attestation: 'none',
  hints: ['client-device'],
  extensions: { credProps: true },
};

test('creation options: binary members become ArrayBuffers, the rest is kept', () => {
  const o = creationOptionsFromJSONFallback(creationJSON);
  assert.ok(o.challenge instanceof ArrayBuffer);
  assert.deepEqual(bytes(o.challenge), Array.from(enc.encode('challenge')));
  assert.ok(o.user.id instanceof ArrayBuffer);
  assert.deepEqual(bytes(o.user.id), Array.from(enc.encode('user-handle')));
  assert.equal(o.user.name, '1234567');
  assert.equal(o.user.displayName, '1234567');
  assert.ok(o.excludeCredentials[0].id instanceof ArrayBuffer);
  assert.deepEqual(bytes(o.excludeCredentials[0].id), [1, 2, 3]);
  assert.deepEqual(o.excludeCredentials[0].transports, ['internal', 'hybrid']);
  assert.deepEqual(o.rp, creationJSON.rp);
  assert.deepEqual(o.pubKeyCredParams, creationJSON.pubKeyCredParams);
  assert.deepEqual(o.authenticatorSelection, creationJSON.authenticatorSelection);
  assert.equal(o.timeout, 300000);
  assert.deepEqual(o.extensions, { credProps: true });
  // The input is not modified.
  assert.equal(creationJSON.challenge, 'Y2hhbGxlbmdl');
  assert.equal(creationJSON.excludeCredentials[0].id, 'AQID');
  // Without PublicKeyCredential (Node), the public function uses the fallback.
  assert.deepEqual(bytes(creationOptionsFromJSON(creationJSON).challenge), bytes(o.challenge));
});

test('request options: challenge and allowCredentials', () => {
  const json = { challenge: 'AQID', rpId: 'localhost', userVerification: 'required', timeout: 300000 };
  const o = requestOptionsFromJSONFallback(json);
  assert.deepEqual(bytes(o.challenge), [1, 2, 3]);
  assert.equal(o.allowCredentials, undefined, 'discoverable login has no allow list');
  assert.equal(o.userVerification, 'required');
  assert.equal(o.rpId, 'localhost');
  const withAllow = requestOptionsFromJSON({ ...json, allowCredentials: [{ type: 'public-key', id: 'BAUG' }] });
  assert.deepEqual(bytes(withAllow.allowCredentials[0].id), [4, 5, 6]);
});

test('the browser parser is preferred, and a throwing one falls back', () => {
  const saved = globalThis.PublicKeyCredential;
  try {
    globalThis.PublicKeyCredential = { parseCreationOptionsFromJSON: () => 'native', parseRequestOptionsFromJSON: () => 'native' };
    assert.equal(creationOptionsFromJSON(creationJSON), 'native');
    assert.equal(requestOptionsFromJSON({ challenge: 'AQID' }), 'native');
    globalThis.PublicKeyCredential = { parseRequestOptionsFromJSON: () => { throw new TypeError('x'); } };
    assert.deepEqual(bytes(requestOptionsFromJSON({ challenge: 'AQID' }).challenge), [1, 2, 3]);
  } finally {
    if (saved === undefined) {
      delete globalThis.PublicKeyCredential;
    } else {
      globalThis.PublicKeyCredential = saved;
    }
  }
});

function fakeAttestation({ attachment = 'platform', withOptional = true } = {}) {
  return {
    id: 'AQID',
    rawId: buf(1, 2, 3),
    type: 'public-key',
    authenticatorAttachment: attachment,
    getClientExtensionResults: () => ({ credProps: { rk: true } }),
    response: {
      clientDataJSON: enc.encode('{"type":"webauthn.create"}').buffer,
      attestationObject: buf(0xa3, 0x63),
      getTransports: () => ['internal', 'hybrid'],
      getAuthenticatorData: withOptional ? () => buf(7, 7) : undefined,
      getPublicKey: withOptional ? () => buf(0x30, 0x59) : () => null,
      getPublicKeyAlgorithm: withOptional ? () => -7 : undefined,
    },
  };
}

test('registration JSON has the Level 3 shape', () => {
  const j = registrationToJSON(fakeAttestation());
  assert.deepEqual(j, {
    id: 'AQID',
    rawId: 'AQID',
    type: 'public-key',
    authenticatorAttachment: 'platform',
    clientExtensionResults: { credProps: { rk: true } },
    response: {
      clientDataJSON: bufferToBase64url(enc.encode('{"type":"webauthn.create"}')),
      attestationObject: 'o2M',
      transports: ['internal', 'hybrid'],
      authenticatorData: 'Bwc',
      publicKey: 'MFk',
      publicKeyAlgorithm: -7,
    },
  });
  // JSON.stringify keeps it all (no ArrayBuffer left behind).
  assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
});

test('registration JSON without the optional getters', () => {
  const cred = fakeAttestation({ attachment: null, withOptional: false });
  delete cred.response.getTransports;
  const j = registrationToJSON(cred);
  assert.equal('authenticatorAttachment' in j, false);
  assert.deepEqual(j.response.transports, []);
  for (const k of ['publicKey', 'publicKeyAlgorithm', 'authenticatorData']) {
    assert.equal(k in j.response, false, k);
  }
});

function fakeAssertion(userHandle) {
  return {
    id: 'BAUG',
    rawId: buf(4, 5, 6),
    type: 'public-key',
    authenticatorAttachment: 'cross-platform',
    getClientExtensionResults: () => ({}),
    response: {
      clientDataJSON: buf(1),
      authenticatorData: buf(2),
      signature: buf(3),
      userHandle,
    },
  };
}

test('authentication JSON has the Level 3 shape', () => {
  assert.deepEqual(authenticationToJSON(fakeAssertion(enc.encode('user-handle').buffer)), {
    id: 'BAUG',
    rawId: 'BAUG',
    type: 'public-key',
    authenticatorAttachment: 'cross-platform',
    clientExtensionResults: {},
    response: { clientDataJSON: 'AQ', authenticatorData: 'Ag', signature: 'Aw', userHandle: 'dXNlci1oYW5kbGU' },
  });
  assert.equal('userHandle' in authenticationToJSON(fakeAssertion(null)).response, false);
});

test('credentialToJSON prefers toJSON and falls back when it throws', () => {
  const native = { ...fakeAssertion(null), toJSON: () => ({ id: 'native', response: {} }) };
  assert.equal(credentialToJSON(native).id, 'native');
  const broken = { ...fakeAttestation(), toJSON: () => { throw new Error('extension bug'); } };
  assert.equal(credentialToJSON(broken).response.attestationObject, 'o2M');
  assert.equal(credentialToJSON(fakeAssertion(null)).response.signature, 'Aw');
});

test('extension outputs with binary values become base64url', () => {
  assert.deepEqual(toJSONValue({ prf: { enabled: true, results: { first: buf(1, 2) } }, list: [buf(255)], gone: undefined }), {
    prf: { enabled: true, results: { first: 'AQI' } },
    list: ['_w'],
  });
});

function fakeFetch(status, body, calls) {
  return async (url, init) => {
    calls.push({ url, init });
    return { ok: status >= 200 && status < 300, status, text: async () => body };
  };
}

test('postJSON sends same-origin JSON and parses the answer', async () => {
  const calls = [];
  const got = await postJSON('/api/x', { shared: true }, fakeFetch(200, '{"publicKey":{"challenge":"AQID"}}', calls));
  assert.deepEqual(got, { publicKey: { challenge: 'AQID' } });
  assert.equal(calls[0].url, '/api/x');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.body, '{"shared":true}');
  assert.equal(await postJSON('/api/x', undefined, fakeFetch(204, '', calls)), null);
  assert.equal(calls[1].init.body, '{}');
});

test('postJSON turns problems and network failures into errors', async () => {
  const calls = [];
  await assert.rejects(
    postJSON('/api/x', {}, fakeFetch(409, '{"type":"about:blank","status":409,"code":"passkey_limit_reached","detail":"パスキーは最大5件まで登録できます。"}', calls)),
    (e) => e instanceof ProblemError && e.status === 409 && e.code === 'passkey_limit_reached' && e.detail.includes('5件'),
  );
  await assert.rejects(postJSON('/api/x', {}, fakeFetch(502, '<html>bad gateway</html>', calls)),
    (e) => e instanceof ProblemError && e.status === 502 && e.code === '' && e.detail === '');
  await assert.rejects(postJSON('/api/x', {}, async () => { throw new TypeError('Failed to fetch'); }), NetworkError);
});

test('classify maps failures to what the page says', () => {
  const dom = (name) => new DOMException('x', name);
  assert.deepEqual(classify(new ProblemError(403, 'step_up_required', '本人確認')), { kind: 'problem', code: 'step_up_required', detail: '本人確認' });
  assert.equal(classify(new ProblemError(500, '', '')).key, 'failed');
  assert.equal(classify(dom('AbortError')).kind, 'silent');
  assert.equal(classify(dom('NotAllowedError')).key, 'cancelled');
  assert.equal(classify(dom('NotAllowedError'), { registering: true, uvpaa: true }).key, 'cancelled');
  assert.equal(classify(dom('NotAllowedError'), { registering: true, uvpaa: false }).key, 'no-uv');
  assert.equal(classify(dom('NotAllowedError'), { registering: true }).key, 'cancelled', 'unknown UVPAA: just cancelled');
  assert.equal(classify(dom('InvalidStateError'), { registering: true }).key, 'exists');
  assert.equal(classify(dom('NotSupportedError')).key, 'unsupported');
  assert.equal(classify(new NetworkError(new TypeError('x'))).key, 'network');
  assert.equal(classify(new Error('?')).key, 'failed');
});

function fakeDoc(elements) {
  return {
    getElementById: (id) => elements[id] || null,
    querySelector: (sel) => elements[sel] || null,
  };
}

test('readSignalData and signalFromPage', async () => {
  const el = { dataset: { rpId: 'localhost', userId: 'dXNlcg', name: '1234567', displayName: '山田 太郎', credentialIds: 'AQID, BAUG,' } };
  const doc = fakeDoc({ 'passkey-signal': el });
  assert.deepEqual(readSignalData(doc), { rpId: 'localhost', userId: 'dXNlcg', name: '1234567', displayName: '山田 太郎', credentialIds: ['AQID', 'BAUG'] });
  assert.equal(readSignalData(fakeDoc({})), null);
  assert.equal(readSignalData(fakeDoc({ 'passkey-signal': { dataset: { rpId: '', userId: '' } } })), null);

  const saved = globalThis.PublicKeyCredential;
  const seen = [];
  try {
    globalThis.PublicKeyCredential = {
      signalAllAcceptedCredentials: async (o) => { seen.push(['all', o]); throw new Error('provider refused'); },
      signalCurrentUserDetails: async (o) => { seen.push(['user', o]); },
    };
    await signalFromPage(doc);
    assert.deepEqual(seen, [
      ['all', { rpId: 'localhost', userId: 'dXNlcg', allAcceptedCredentialIds: ['AQID', 'BAUG'] }],
      ['user', { rpId: 'localhost', userId: 'dXNlcg', name: '1234567', displayName: '山田 太郎' }],
    ]);
    // An empty list is still signalled: every passkey was deleted.
    seen.length = 0;
    await signalFromPage(fakeDoc({ 'passkey-signal': { dataset: { rpId: 'localhost', userId: 'dXNlcg', credentialIds: '' } } }));
    assert.deepEqual(seen, [['all', { rpId: 'localhost', userId: 'dXNlcg', allAcceptedCredentialIds: [] }]]);
    // Browsers without the Signal API: nothing happens.
    globalThis.PublicKeyCredential = {};
    await signalFromPage(doc);
  } finally {
    if (saved === undefined) {
      delete globalThis.PublicKeyCredential;
    } else {
      globalThis.PublicKeyCredential = saved;
    }
  }
});

test('sharedChoice reads the checked radio', () => {
  assert.equal(sharedChoice(fakeDoc({})), '');
  assert.equal(sharedChoice(fakeDoc({ 'input[name="shared"]:checked': { value: 'yes' } })), 'yes');
});

test('createPasskey drives options, create and finish', async () => {
  const savedFetch = globalThis.fetch;
  const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const calls = [];
  let createArg;
  try {
    globalThis.fetch = async (url, init) => {
      calls.push({ url, body: JSON.parse(init.body) });
      if (url === '/api/passkeys/options') {
        return { ok: true, status: 200, text: async () => JSON.stringify({ publicKey: creationJSON }) };
      }
      return { ok: true, status: 201, text: async () => '{"id":9,"name":"自宅 PC"}' };
    };
    Object.defineProperty(globalThis, 'navigator', {
      configurable: true,
      value: { credentials: { create: async (arg) => { createArg = arg; return fakeAttestation(); } } },
    });
    let created = false;
    const got = await createPasskey({ shared: true, name: '自宅 PC&x', mediation: 'conditional', onCreated: () => { created = true; } });
    assert.deepEqual(got, { id: 9, name: '自宅 PC' });
    assert.ok(created);
    assert.deepEqual(calls[0], { url: '/api/passkeys/options', body: { shared: true, mediation: 'conditional' } });
    assert.equal(createArg.mediation, 'conditional');
    assert.ok(createArg.publicKey.challenge instanceof ArrayBuffer);
    assert.equal(calls[1].url, '/api/passkeys?name=' + encodeURIComponent('自宅 PC&x'));
    assert.equal(calls[1].body.response.attestationObject, 'o2M');

    calls.length = 0;
    await createPasskey({ shared: false });
    assert.deepEqual(calls[0].body, { shared: false });
    assert.equal(calls[1].url, '/api/passkeys', 'no name, no query');
  } finally {
    globalThis.fetch = savedFetch;
    if (hadNavigator) {
      Object.defineProperty(globalThis, 'navigator', hadNavigator);
    } else {
      delete globalThis.navigator;
    }
  }
});
