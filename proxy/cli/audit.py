"""``bedside audit verify | tail | export | checkpoint | key | record``: the tamper-evident audit log.

* ``verify [--checkpoint FILE ...]`` recomputes the tree from the entries and checks every stored
  checkpoint (and checkpoints kept elsewhere); each problem is printed with the check and the
  index; progress goes to stderr every 100,000 entries. Exit 0 when the log verifies, 1 otherwise.
* ``tail [-n N] [--follow]`` prints the newest entries, one JSON line each.
* ``export --since WHEN --reason TEXT [--out FILE]`` writes entries from an index or an ISO time
  (``2026-12-01``, ``2026-12-01T10:00:00Z``) as JSON lines, then the newest checkpoint; the export
  itself is recorded (an ``admin`` entry with the reason).
* ``checkpoint`` integrates pending entries and prints a signed checkpoint of the whole log.
* ``key`` prints the verifier key that checks this deployment's checkpoints; ``keygen --out FILE``
  writes a new signing key file (0600, refused if it exists) and prints its verifier key.
* ``record --action NAME --reason TEXT`` records an operator action that happened outside Bedside.
* ``verify-receipt FILE [--key VERIFIER]`` checks a deletion receipt offline: its checkpoint's
  signature (the verifier key ``bedside audit key`` prints, or ``--key``), the logged entry's facts
  against the receipt's, the entry's index and the inclusion proof. Exit 0 when it verifies, 1 naming
  the check that failed, 2 when the file or key cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from proxy.cli.common import load_settings


def _open(signing: bool = True) -> Any:
    from proxy.audit.wiring import build_audit_log
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    settings = load_settings()
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    return engine, build_audit_log(settings, engine, None, signing=signing)


def _line(index: int, payload: bytes, leaf: bytes) -> str:
    import base64

    return json.dumps({"index": index, "leaf_hash": base64.b64encode(leaf).decode(), "entry": json.loads(payload)}, ensure_ascii=False)


def cmd_verify(args: argparse.Namespace) -> int:
    from proxy.audit.note import NoteError
    from proxy.audit.verify import verify_log

    engine, log = _open()
    external: list[tuple[str, str]] = []
    for path in args.checkpoint or []:
        try:
            external.append((f"checkpoint file {path}", Path(path).read_text(encoding="utf-8")))
        except OSError as exc:
            print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"verified {done:,} of {total:,} entries ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    try:
        report = verify_log(log.store, log.verifiers, origin=log.origin, external=external, progress=progress, progress_every=args.progress_every)
    except NoteError as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for problem in report.problems:
        print(f"FAIL {problem}")
    summary = (
        f"{report.entries:,} entries, tree size {report.tree_size:,}, {report.pending} pending, "
        f"{report.checkpoints_verified} of {report.checkpoints} checkpoints verified, in {report.seconds:.2f} s"
    )
    if report.ok:
        print(f"OK: the audit log verifies: {summary}")
        return 0
    print(f"The audit log does NOT verify ({len(report.problems)} problem(s)): {summary}")
    return 1


def cmd_tail(args: argparse.Namespace) -> int:
    engine, log = _open(signing=False)
    try:
        last = log.store.last_index()
        start = 0 if last is None else max(0, last - args.n + 1)
        while True:
            for index, payload, leaf in log.store.entries(start=start):
                print(_line(index, payload, leaf), flush=True)
                start = index + 1
            if not args.follow:
                return 0
            time.sleep(1.0)
            log.store.integrate_all()
    except KeyboardInterrupt:
        return 0
    finally:
        engine.dispose()


def _since(value: str) -> tuple[int, datetime | None]:
    if value.isdigit():
        return int(value), None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return 0, moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def cmd_export(args: argparse.Namespace) -> int:
    from proxy.audit.events import AdminAction, check_reason

    try:
        start, since = _since(args.since)
        reason = check_reason(args.reason)
    except ValueError as exc:
        print(f"{exc} (--since takes an index or an ISO date/time; --reason says why in a few words)", file=sys.stderr)
        return 2
    engine, log = _open()
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        index = log.append_sync(AdminAction(action="audit_export", reason=reason, details={"since": args.since if args.since.isdigit() else "time"}))
        count = 0
        for i, payload, leaf in log.store.entries(start=start, since=since):
            if i >= index:
                break
            out.write(_line(i, payload, leaf) + "\n")
            count += 1
        cp = log.checkpoint_sync()
        out.write(json.dumps({"object": "audit.checkpoint", **cp.to_json(), "verifier_key": log.signer.verifier.text()}) + "\n")
        print(f"exported {count} entries; this export is recorded as entry {index}", file=sys.stderr)
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
        engine.dispose()


def cmd_checkpoint(args: argparse.Namespace) -> int:
    engine, log = _open()
    try:
        cp = log.checkpoint_sync()
        sys.stdout.write(cp.note)
        print(f"checkpoint of {cp.size} entries; verifier key: {log.signer.verifier.text()}", file=sys.stderr)
        return 0
    finally:
        engine.dispose()


def cmd_key(args: argparse.Namespace) -> int:
    from proxy.audit.keys import load_signer

    print(load_signer(load_settings()).verifier.text())
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from proxy.audit.keys import create_key_file
    from proxy.audit.note import NoteError

    try:
        signer = create_key_file(Path(args.out), args.name)
    except FileExistsError:
        print(f"{args.out} already exists: refusing to overwrite a signing key (its checkpoints would no longer verify).", file=sys.stderr)
        return 1
    except (OSError, NoteError) as exc:
        print(f"cannot create {args.out}: {exc}", file=sys.stderr)
        return 2
    print(signer.verifier.text())
    print(f"Wrote a new audit signing key to {args.out} (0600). Set BEDSIDE_AUDIT__SIGNING_KEY_FILE to it; publish the verifier key above.", file=sys.stderr)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from proxy.audit.events import AdminAction, check_reason

    try:
        event = AdminAction(action=args.action, reason=check_reason(args.reason), tenant=args.tenant)
    except (ValueError, ValidationError) as exc:
        print(f"cannot record: {exc}".splitlines()[0] + " (--action is a name like backup_restored; --reason says why)", file=sys.stderr)
        return 2
    engine, log = _open(signing=False)
    try:
        print(f"recorded as entry {log.append_sync(event)}")
        return 0
    finally:
        engine.dispose()


def cmd_verify_receipt(args: argparse.Namespace) -> int:
    from proxy.audit.note import NoteError, Verifier
    from proxy.audit_rights import ReceiptError, verify_receipt

    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read the receipt {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.key:
            verifiers = [Verifier.parse(k) for k in args.key]
        else:
            from proxy.audit.keys import load_signer
            from proxy.audit.keys import verifiers as deployment_verifiers

            settings = load_settings()
            verifiers = deployment_verifiers(settings, load_signer(settings))
    except (NoteError, OSError, ValueError) as exc:
        print(f"cannot read the verifier key: {exc} (pass the one `bedside audit key` prints with --key)", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print(f"FAIL receipt: {args.file} is not a deletion receipt (a JSON object)")
        return 1
    try:
        receipt = verify_receipt(document, verifiers)
    except ReceiptError as exc:
        print(f"FAIL {exc.check}: {exc.detail}")
        print("The receipt does NOT verify.")
        return 1
    assert receipt.audit is not None
    print(f"OK: erasure {receipt.id} is entry {receipt.audit.index} of the audit log, included in a checkpoint signed by a known key; its facts match the receipt.")
    return 0


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the tamper-evident audit log: verify, tail, export, checkpoint")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="recompute the tree from the entries and check every checkpoint")
    verify.add_argument("--checkpoint", action="append", help="a signed checkpoint kept outside the database (repeatable)")
    verify.add_argument("--progress-every", type=int, default=100_000, help="print progress every N entries (stderr)")
    verify.set_defaults(fn=cmd_verify)
    tail = audit_sub.add_parser("tail", help="the newest entries as JSON lines")
    tail.add_argument("-n", type=int, default=20)
    tail.add_argument("--follow", "-f", action="store_true", help="keep printing new entries")
    tail.set_defaults(fn=cmd_tail)
    export = audit_sub.add_parser("export", help="entries since an index or time, as JSON lines, then a checkpoint")
    export.add_argument("--since", required=True, help="an entry index, or an ISO date/time (UTC unless it says otherwise)")
    export.add_argument("--reason", required=True, help="why the log is exported (recorded in the log)")
    export.add_argument("--out", default=None, help="file to write (default: standard output)")
    export.set_defaults(fn=cmd_export)
    audit_sub.add_parser("checkpoint", help="sign a checkpoint of the whole log now and print it").set_defaults(fn=cmd_checkpoint)
    audit_sub.add_parser("key", help="print the verifier key of this deployment's checkpoints").set_defaults(fn=cmd_key)
    keygen = audit_sub.add_parser("keygen", help="write a new checkpoint signing key file (0600) and print its verifier key")
    keygen.add_argument("--out", required=True, help="the file to create (refused if it exists)")
    keygen.add_argument("--name", default=None, help="the key's name, also the log's origin (default: bedside-audit-<8 hex>)")
    keygen.set_defaults(fn=cmd_keygen)
    record = audit_sub.add_parser("record", help="record an operator action and its reason")
    record.add_argument("--action", required=True, help="what was done, as a name (e.g. backup_restored)")
    record.add_argument("--reason", required=True, help="why, in a few words (no personal data)")
    record.add_argument("--tenant", default=None)
    record.set_defaults(fn=cmd_record)
    receipt = audit_sub.add_parser("verify-receipt", help="check a deletion receipt offline against its signed checkpoint")
    receipt.add_argument("file", help="the receipt (the JSON DELETE /v1/users/{user} or bedside users erase answered)")
    receipt.add_argument("--key", action="append", help="a verifier key (repeatable; default: this deployment's, as bedside audit key prints)")
    receipt.set_defaults(fn=cmd_verify_receipt)
