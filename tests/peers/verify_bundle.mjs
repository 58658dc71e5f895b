// Verifies a key-signed Sigstore bundle with sigstore-js (@sigstore/bundle, @sigstore/verify).
//
// Usage: node verify_bundle.mjs BUNDLE.json PUBLIC_KEY.pem
// (NODE_PATH must reach the node_modules the packages were installed into.)
//
// An independent check that the bundles receipts writes are what cosign v3 writes for
// `cosign attest --key … --tlog-upload=false`: the bundle is parsed and schema-checked by
// @sigstore/bundle, then verified by @sigstore/verify with a trust root that knows only the
// public key, found by the bundle's `publicKey.hint`. A bundle without transparency log entries or
// timestamps verifies only when the verifier is told to require none (tlogThreshold,
// ctlogThreshold and timestampThreshold 0): sigstore-js's defaults require one log entry and one
// timestamp. The DSSE signature is always checked over the PAE.
//
// Exit status 0 when the bundle verifies, 1 when it does not, 2 on usage errors.

import { createRequire } from 'node:module';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH ?? process.cwd(), 'x.js'));
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, keyPath] = process.argv.slice(2);
if (!bundlePath || !keyPath) {
  console.error('usage: verify_bundle.mjs BUNDLE.json PUBLIC_KEY.pem');
  process.exit(2);
}

const keyDer = createPublicKey(readFileSync(keyPath)).export({ type: 'spki', format: 'der' });
const hint = createHash('sha256').update(keyDer).digest('base64');

const emptyRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};
const trust = toTrustMaterial(emptyRoot, { [hint]: { rawBytes: keyDer } });

try {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  if (bundle.verificationMaterial.content?.$case !== 'publicKey') {
    throw new Error('bundle is not key-signed');
  }
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  console.log(`verified ${bundle.mediaType} (${bundle.content.$case}) with key hint ${hint}`);
} catch (error) {
  console.error(`not verified: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}
