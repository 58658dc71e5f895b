"""Verifies a DSSE envelope with go-securesystemslib's Python sibling, securesystemslib.

Usage: verify_dsse.py ENVELOPE.json PUBLIC_KEY.pem [SCHEME]

An independent check that the envelopes receipts writes are valid DSSE: the key is built from the
PEM public key with an empty keyid (what cosign writes), the scheme defaults to the key type's
(ecdsa-sha2-nistp256 for cosign keys). securesystemslib's parser requires every signature to
carry a "keyid" member, which the cosign v3 form omits; an absent keyid is read as "" (what DSSE
and cosign mean by it) before parsing. Payload and signature bytes are never changed.

Exit status 0 when the envelope verifies, 1 when it does not, 2 on usage errors.
"""

import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = json.load(f)
    with open(argv[2], "rb") as f:
        public_key = load_pem_public_key(f.read())
    scheme = argv[3] if len(argv) == 4 else None
    # from_crypto replaces an empty keyid by a computed one; keep cosign's empty keyid.
    template = SSlibKey.from_crypto(public_key, scheme=scheme)
    key = SSlibKey("", template.keytype, template.scheme, template.keyval)

    for signature in data.get("signatures", []):
        signature.setdefault("keyid", "")
    envelope = Envelope.from_dict(data)
    try:
        accepted = envelope.verify([key], 1)
    except VerificationError as error:
        print(f"not verified: {error}", file=sys.stderr)
        return 1
    if "" not in accepted:
        print("not verified: no signature accepted", file=sys.stderr)
        return 1
    print(f"verified {envelope.payload_type} with {key.scheme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
