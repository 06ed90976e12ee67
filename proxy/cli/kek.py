"""``bedside kek generate --out FILE | rotate --old FILE --new FILE``: key-encryption keys (KEKs).

``generate`` writes a new KEK file (created 0600, refused if the file exists) and prints the KEK's
id, never the key. ``rotate`` re-wraps every live data key with the new file's current (first) KEK,
unwrapping with the old file's KEKs (see "KEK rotation" in docs/privacy.md); it prints progress per
batch and the live keys per KEK afterwards. Re-running it is safe: keys already under the new KEK
are skipped. A rotation is recorded in the audit log (a ``kek_rotation`` entry: the new KEK's id,
counts, whether it finished, the optional ``--reason``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from proxy.cli.common import load_settings


def cmd_generate(args: argparse.Namespace) -> int:
    from proxy.crypto.keys import generate_kek, kek_id_for, parse_kek

    path = Path(args.out)
    kek = generate_kek()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{path} already exists: refusing to overwrite a KEK (data keys wrapped by it would become unreadable).", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot create {path}: {exc.strerror}", file=sys.stderr)
        return 2
    with os.fdopen(fd, "w") as fh:
        fh.write(kek + "\n")
    print(kek_id_for(parse_kek(kek)))
    print(
        f"Wrote a new KEK to {path} (0600). To rotate: put it first in the KEK file, the old KEK after it, restart the replicas, then run `bedside kek rotate --old OLD --new NEW`.",
        file=sys.stderr,
    )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from proxy.audit.events import KekRotation, check_reason
    from proxy.crypto.envelope import rotate_kek
    from proxy.crypto.keys import CryptoError, FileKeyProvider, KeyUnavailable
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine
    from proxy.storage.repositories import DataKeyMaintenance, WrappedKeyRow

    try:
        old = FileKeyProvider(Path(args.old))
        new = FileKeyProvider(Path(args.new))
    except (KeyUnavailable, ValueError) as exc:
        print(f"cannot read the KEKs: {exc}", file=sys.stderr)
        return 2
    try:
        reason = check_reason(args.reason) if args.reason else None
    except ValueError as exc:
        print(f"--reason: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())

    class Progress(DataKeyMaintenance):
        done = 0

        def live_keys_not_under(self, kek_id: str, *, after_id: int = 0, limit: int = 500) -> list[WrappedKeyRow]:
            rows = super().live_keys_not_under(kek_id, after_id=after_id, limit=limit)
            if rows:
                print(f"re-wrapping keys {self.done + 1}-{self.done + len(rows)} ...", flush=True)
                self.done += len(rows)
            return rows

    try:
        maintenance = Progress(engine)
        before = maintenance.count_by_kek()
        print(f"live data keys per KEK before: {before or '{}'}; target KEK {new.current_kek_id}", flush=True)
        try:
            result = rotate_kek(maintenance, old, new, batch=args.batch)
        except CryptoError as exc:
            print(f"rotation stopped: {exc}. Keys re-wrapped so far stay re-wrapped; fix the KEKs and run it again.", file=sys.stderr)
            return 1
        print(f"re-wrapped {result.rewrapped} data key(s) under KEK {result.new_kek_id}; {result.skipped} changed meanwhile and were left as they are")
        after = maintenance.count_by_kek()
        print(f"live data keys per KEK after: {after or '{}'}")
        if settings.audit.enabled:
            from proxy.audit.wiring import build_audit_log

            event = KekRotation(new_kek_id=result.new_kek_id, rewrapped=result.rewrapped, skipped=result.skipped, complete=set(after) <= {result.new_kek_id}, reason=reason)
            print(f"recorded in the audit log as entry {build_audit_log(settings, engine, None, signing=False).append_sync(event)}")
        if set(after) <= {result.new_kek_id}:
            print("Every live data key is under the new KEK: the old KEK can be removed from the KEK file.")
        return 0
    finally:
        engine.dispose()


def register(sub: Any) -> None:
    kek = sub.add_parser("kek", help="key-encryption keys: generate, rotate")
    kek_sub = kek.add_subparsers(dest="kek_command", required=True)
    gen = kek_sub.add_parser("generate", help="write a new KEK file (0600) and print its id")
    gen.add_argument("--out", required=True, help="the file to create (refused if it exists)")
    gen.set_defaults(fn=cmd_generate)
    rot = kek_sub.add_parser("rotate", help="re-wrap every live data key under the new KEK")
    rot.add_argument("--old", required=True, help="KEK file that can unwrap the current keys")
    rot.add_argument("--new", required=True, help="KEK file whose first KEK becomes the wrapping key")
    rot.add_argument("--batch", type=int, default=500, help="keys per batch (progress is printed per batch)")
    rot.add_argument("--reason", default=None, help="why (recorded in the audit log; no personal data)")
    rot.set_defaults(fn=cmd_rotate)
