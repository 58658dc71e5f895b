"""Verifies a keyless DSSE Sigstore bundle with sigstore-python against a client trust config,
offline, then checks that the statement names the artifact digest.

Usage: python verify_sigstore.py TRUST_CONFIG.json BUNDLE.json IDENTITY ISSUER sha256:HEX

sigstore-python's `Verifier.verify_dsse` does every cryptographic check (certificate chain to
the trusted root's CAs, embedded SCT, transparency log inclusion proof, checkpoint and SET,
RFC 3161 timestamps, the DSSE signature, the log entry's agreement with the bundle, the
identity policy). Its command line then parses the statement as in-toto v1 only and so refuses
the v0.1 statements cosign writes; the subject digest is checked here instead, for either
statement version.

On success it prints how many verified times sigstore-python established (the Rekor entry's
integrated time, plus one per RFC 3161 timestamp it verified): it drops a timestamp it cannot
verify when another time source remains, so the count is what shows a timestamp was checked.

Exit status 0 when the bundle verifies, 1 when it does not, 2 on usage errors.
"""

import json
import sys

from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy

if len(sys.argv) != 6 or not sys.argv[5].startswith("sha256:"):
    print(__doc__, file=sys.stderr)
    sys.exit(2)
config_path, bundle_path, identity, issuer, digest = sys.argv[1:]
try:
    with open(config_path) as f:
        config = ClientTrustConfig.from_json(f.read())
    with open(bundle_path, "rb") as f:
        bundle = Bundle.from_json(f.read())
    verifier = Verifier(trusted_root=config.trusted_root)
    payload_type, payload = verifier.verify_dsse(
        bundle, policy.Identity(identity=identity, issuer=issuer)
    )
    if payload_type != "application/vnd.in-toto+json":
        raise ValueError(f"payload type {payload_type}")
    statement = json.loads(payload)
    wanted = digest.removeprefix("sha256:")
    if not any(s.get("digest", {}).get("sha256") == wanted for s in statement["subject"]):
        raise ValueError(f"no subject with digest {wanted}")
    # A private method: the public API does not report which times were verified.
    times = len(verifier._establish_time(bundle))
    print(f"verified {statement['_type']} {statement['predicateType']} times={times}")
except Exception as error:  # noqa: BLE001 - every failure is a refusal
    print(f"not verified: {type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
