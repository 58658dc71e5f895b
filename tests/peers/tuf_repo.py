#!/usr/bin/env python3
"""Writes TUF repositories with python-tuf's Metadata API, an implementation independent of the
Rust client under test (tests/tuf.rs).

Usage: tuf_repo.py OUT TRUSTED_ROOT_A TRUSTED_ROOT_B SIGNING_CONFIG

OUT/root.json is version 1 of the root, the client's bootstrap. Every OUT/states/NAME/ is the
whole content of a mirror at one moment (metadata at the top, targets under targets/, consistent
snapshots as Sigstore publishes them), so a test serves one state after another at one URL:

  v1                 first publication: targets trusted_root.json (A) and signing_config.v0.2.json
  v3                 root rotated twice (v1 -> v2 -> v3, one root key and the timestamp key
                     revoked on the way); targets v2 carries trusted_root.json B
  expired-timestamp  v1, then a timestamp that expired yesterday
  expired-snapshot   v1, then a fresh timestamp pinning a snapshot that expired yesterday
  expired-targets    v1, then fresh timestamp and snapshot pinning targets that expired yesterday
  rollback           v3, then a timestamp with a lower version, signed by the current key
  bad-hash           v1 with other bytes served under trusted_root.json's hashed name
  huge-length        v1, then targets metadata giving trusted_root.json a length of 2**62
  revoked-timestamp  v3, then a timestamp signed only by the key root v2 revoked
  revoked-root       v3, then a 4.root.json signed only by keys rotated out of the root
"""

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PRETTY = JSONSerializer(compact=False)


def days(n):
    return NOW + timedelta(days=n)


class Repo:
    """The signing side of one repository: keys, the latest metadata, the published files."""

    def __init__(self, trusted_root, signing_config):
        self.keys = {name: CryptoSigner.generate_ecdsa() for name in
                     ("root1", "root2", "root3", "root4", "root5",
                      "timestamp1", "timestamp2", "snapshot", "targets")}
        self.files = {}  # published path -> bytes
        root = Root(expires=days(365), consistent_snapshot=True)
        for name in ("root1", "root2", "root3"):
            root.add_key(self.keys[name].public_key, "root")
        root.roles["root"].threshold = 2
        root.add_key(self.keys["timestamp1"].public_key, "timestamp")
        root.add_key(self.keys["snapshot"].public_key, "snapshot")
        root.add_key(self.keys["targets"].public_key, "targets")
        self.root = Metadata(root)
        self.root_signers = ["root1", "root2", "root3"]
        self.timestamp_signer = "timestamp1"
        self.targets = Metadata(Targets(expires=days(90)))
        self.snapshot = Metadata(Snapshot(expires=days(30)))
        self.timestamp = Metadata(Timestamp(expires=days(7)))
        self.sign_root(self.root_signers)
        self.set_targets({"trusted_root.json": trusted_root,
                          "signing_config.v0.2.json": signing_config})

    def sign(self, metadata, signers):
        metadata.signatures.clear()
        for name in signers:
            metadata.sign(self.keys[name], append=True)
        return metadata.to_bytes(PRETTY)

    def sign_root(self, signers):
        self.files[f"{self.root.signed.version}.root.json"] = self.sign(self.root, signers)

    def rotate_root(self, revoke, add, new_timestamp_key=None):
        """Next root: `revoke` leaves, `add` joins; signed by the old and the new keys."""
        old = list(self.root_signers)
        root = self.root.signed
        root.version += 1
        root.revoke_key(self.keys[revoke].public_key.keyid, "root")
        root.add_key(self.keys[add].public_key, "root")
        if new_timestamp_key:
            root.revoke_key(self.keys[self.timestamp_signer].public_key.keyid, "timestamp")
            root.add_key(self.keys[new_timestamp_key].public_key, "timestamp")
            self.timestamp_signer = new_timestamp_key
        self.root_signers = [k for k in old if k != revoke] + [add]
        self.sign_root(sorted(set(old) | set(self.root_signers)))

    def set_targets(self, contents, targets_expires=90, snapshot_expires=30,
                    timestamp_expires=7, huge_length=False):
        targets = self.targets.signed
        targets.version += 1 if self.targets.signatures else 0
        targets.expires = days(targets_expires)
        targets.targets = {}
        for name, data in contents.items():
            target = TargetFile.from_data(name, data, ["sha256", "sha512"])
            if huge_length and name == "trusted_root.json":
                target.length = 2**62
            targets.targets[name] = target
            self.files[f"targets/{target.hashes['sha256']}.{name}"] = data
        self.files[f"{targets.version}.targets.json"] = self.sign(self.targets, ["targets"])
        snapshot = self.snapshot.signed
        snapshot.version += 1 if self.snapshot.signatures else 0
        snapshot.expires = days(snapshot_expires)
        snapshot.meta["targets.json"] = MetaFile(version=targets.version)
        self.files[f"{snapshot.version}.snapshot.json"] = self.sign(self.snapshot, ["snapshot"])
        self.publish_timestamp(timestamp_expires)

    def publish_timestamp(self, expires=7, version=None, signer=None):
        timestamp = self.timestamp.signed
        timestamp.version = version if version is not None else (
            timestamp.version + 1 if self.timestamp.signatures else 1)
        timestamp.expires = days(expires)
        timestamp.snapshot_meta = MetaFile(version=self.snapshot.signed.version)
        self.files["timestamp.json"] = self.sign(
            self.timestamp, [signer or self.timestamp_signer])

    def write(self, directory):
        for path, data in self.files.items():
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def main():
    out = Path(sys.argv[1])
    trusted_a, trusted_b, signing_config = (Path(p).read_bytes() for p in sys.argv[2:5])
    if out.exists():
        shutil.rmtree(out)
    states = out / "states"
    states.mkdir(parents=True)
    repo = Repo(trusted_a, signing_config)
    (out / "root.json").write_bytes(repo.files["1.root.json"])

    def state(name, edit=None):
        """Writes the current files (plus `edit`'s changes to a copy) as states/NAME."""
        saved = (dict(repo.files), repo.timestamp.signed.version, repo.snapshot.signed.version,
                 repo.targets.signed.version)
        if edit:
            edit()
        repo.write(states / name)
        files, ts, snap, tgt = saved
        repo.files = files
        repo.timestamp.signed.version = ts
        repo.snapshot.signed.version = snap
        repo.targets.signed.version = tgt

    state("v1")
    contents = {"trusted_root.json": trusted_a, "signing_config.v0.2.json": signing_config}
    state("expired-timestamp", lambda: repo.publish_timestamp(expires=-1))
    state("expired-snapshot", lambda: repo.set_targets(contents, snapshot_expires=-1))
    state("expired-targets", lambda: repo.set_targets(contents, targets_expires=-1))

    def corrupt():
        name = f"targets/{repo.targets.signed.targets['trusted_root.json'].hashes['sha256']}" \
               ".trusted_root.json"
        repo.files[name] = repo.files[name].replace(b"tlogs", b"tlogz", 1)
    state("bad-hash", corrupt)
    state("huge-length", lambda: repo.set_targets(contents, huge_length=True))

    repo.rotate_root("root1", "root4", new_timestamp_key="timestamp2")
    repo.rotate_root("root2", "root5")
    repo.set_targets({"trusted_root.json": trusted_b, "signing_config.v0.2.json": signing_config})
    state("v3")
    state("rollback", lambda: repo.publish_timestamp(version=1))
    state("revoked-timestamp", lambda: repo.publish_timestamp(signer="timestamp1"))

    def rogue_root():
        repo.root.signed.version += 1
        repo.sign_root(["root1", "root2"])
        repo.root.signed.version -= 1
    state("revoked-root", rogue_root)

    json.dump({"states": sorted(p.name for p in states.iterdir())}, sys.stdout)


if __name__ == "__main__":
    main()
