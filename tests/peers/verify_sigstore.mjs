// Verifies a Sigstore bundle with sigstore-js (@sigstore/bundle, @sigstore/verify) against a
// trusted root, with sigstore-js's default thresholds: one transparency log entry (inclusion
// proof, checkpoint and body checked against the root's Rekor keys), one verified time, and for
// certificates one SCT from the root's CT logs, a chain to its CAs and an identity policy.
// RFC 3161 timestamps in the bundle are verified against the root's timestamp authorities.
//
// Usage: node verify_sigstore.mjs BUNDLE.json TRUSTED_ROOT.json key PUBLIC_KEY.pem
//        node verify_sigstore.mjs BUNDLE.json TRUSTED_ROOT.json identity SAN ISSUER
// (NODE_PATH must reach the node_modules the packages were installed into.)
//
// Exit status 0 when the bundle verifies, 1 when it does not, 2 on usage errors.

import { createRequire } from 'node:module';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH ?? process.cwd(), 'x.js'));
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [bundlePath, rootPath, mode, a, b] = process.argv.slice(2);
if (!bundlePath || !rootPath || !['key', 'identity'].includes(mode) || !a || (mode === 'identity' && !b)) {
  console.error('usage: verify_sigstore.mjs BUNDLE ROOT (key PEM | identity SAN ISSUER)');
  process.exit(2);
}

try {
  const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8')));
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  let trust;
  let verifier;
  let policy;
  if (mode === 'key') {
    const keyDer = createPublicKey(readFileSync(a)).export({ type: 'spki', format: 'der' });
    const hint = createHash('sha256').update(keyDer).digest('base64');
    trust = toTrustMaterial(root, { [hint]: { rawBytes: keyDer } });
    verifier = new Verifier(trust, { ctlogThreshold: 0 });
  } else {
    trust = toTrustMaterial(root);
    verifier = new Verifier(trust);
    policy = { subjectAlternativeName: a, extensions: { issuer: b } };
  }
  verifier.verify(toSignedEntity(bundle), policy);
  console.log(`verified ${bundle.mediaType} (${bundle.verificationMaterial.content.$case})`);
} catch (error) {
  console.error(`not verified: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}
