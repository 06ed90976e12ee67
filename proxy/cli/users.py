"""``bedside users export USER --tenant T [--out FILE]`` and ``bedside users erase USER --tenant T``.

The same export and erasure as ``GET /v1/users/{user}/export`` and ``DELETE /v1/users/{user}``
(:class:`~proxy.privacy.rights.UserRights`, built from the same settings as ``serve``: database,
KEK, subject keys, policies), for an operator answering a request outside the API.

* ``export`` writes the JSON document as it is read, to ``--out FILE`` (created 0600; an existing
  file is not overwritten: the export holds personal data) or to standard output.
* ``erase`` prints the deletion receipt (JSON). A retry after an interruption finishes the same
  erasure.

A user Bedside holds nothing about in that tenant exits 1 with a message; configuration errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from proxy.cli.common import load_settings

if TYPE_CHECKING:
    from proxy.privacy.rights import UserRights
    from proxy.settings import Settings


@contextlib.contextmanager
def user_rights(settings: Settings) -> Iterator[UserRights]:
    """The rights service ``serve`` builds, over a migrated database (disposed afterwards)."""
    from proxy.policy.errors import PolicyLoadError
    from proxy.policy.policy_set import load_policy_set
    from proxy.privacy.wiring import build_privacy
    from proxy.rights_wiring import build_user_rights
    from proxy.secrets_store import SubjectHasher, configured_key
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    policies: list[Any] = []
    if settings.policy.enabled:  # the export's processing facts name the recipients and retention the policies set
        try:
            loaded = load_policy_set(settings.policy.directory, default_policy=settings.policy.default, unknown_model=settings.policy.unknown_model)
        except PolicyLoadError as exc:
            print(f"The policies in {settings.policy.directory} do not load (the export names recipients and retention from them):\n{exc}", file=sys.stderr)
            raise SystemExit(2) from None
        policies = list(loaded.policies.values())
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    audit = None
    try:
        privacy = build_privacy(settings, engine)
        hasher = SubjectHasher(configured_key(settings.privacy.identifier_key_file, settings.data_dir, "subject.key"))
        if settings.audit.enabled:  # as serve: the erasure's receipt carries its audit proof, exports are recorded
            from proxy.audit.wiring import build_audit_log
            from proxy.audit_rights import AuditedErasure, export_recorder

            audit = build_audit_log(settings, engine, privacy.subjects)
            audit.start()
        rights = build_user_rights(settings, engine, privacy, hasher, lambda: policies, audit=AuditedErasure(audit) if audit is not None and audit.signer is not None else None)
        if audit is not None:
            rights.on_export = export_recorder(audit)
        yield rights
    finally:
        if audit is not None:
            audit.stop()
        engine.dispose()


def _unknown(user: str, tenant: str) -> int:
    print(f"Bedside holds nothing about user {user!r} in tenant {tenant!r}: nothing to do. Check the id and --tenant.", file=sys.stderr)
    return 1


def _open_out(path: Path) -> IO[bytes]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SystemExit(f"{path} exists: an export holds personal data, so Bedside does not overwrite files. Choose another --out.") from None
    return os.fdopen(fd, "wb")


async def _export(rights: UserRights, tenant: str, user: str, out: Path | None) -> int:
    who = rights.who(tenant, user)
    if not await rights.known(who):
        return _unknown(user, tenant)
    await rights.record_export(who)  # AuditUnavailable when the audit log does not take it: nothing is written
    sink = _open_out(out) if out is not None else sys.stdout.buffer
    size = 0
    try:
        async for piece in rights.export(who):
            sink.write(piece)
            size += len(piece)
        sink.write(b"\n")
    finally:
        if out is not None:
            sink.close()
        else:
            sink.flush()
    if out is not None:
        print(f"wrote {out} ({size} bytes)", file=sys.stderr)
    return 0


async def _erase(rights: UserRights, tenant: str, user: str) -> int:
    who = rights.who(tenant, user)
    if not await rights.known(who):
        return _unknown(user, tenant)
    receipt = await rights.erase(who)
    print(json.dumps(receipt.model_dump(mode="json"), indent=2, ensure_ascii=False))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from proxy.errors import AuditUnavailable

    with user_rights(load_settings()) as rights:
        try:
            return asyncio.run(_export(rights, args.tenant, args.user, args.out))
        except AuditUnavailable:
            print("The audit log did not record this export, so nothing was exported: run the same command again in a moment.", file=sys.stderr)
            return 1


def cmd_erase(args: argparse.Namespace) -> int:
    from proxy.privacy.erasure import ErasureAuditFailed

    with user_rights(load_settings()) as rights:
        try:
            return asyncio.run(_erase(rights, args.tenant, args.user))
        except ErasureAuditFailed:
            print("The user's data is erased, but the audit log did not record it: run the same command again to finish and get the receipt.", file=sys.stderr)
            return 1


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="a user's data rights: export and erasure")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    export = users_sub.add_parser("export", help="write everything Bedside holds about a user as one JSON document (docs/export.schema.json)")
    export.add_argument("user", help="the tenant's id for the user (as sent in X-Bedside-User)")
    export.add_argument("--tenant", required=True, help="the user's tenant (`open` in open mode)")
    export.add_argument("--out", type=Path, default=None, help="write to this new file (created 0600) instead of standard output")
    export.set_defaults(fn=cmd_export)
    erase = users_sub.add_parser("erase", help="erase a user (rows deleted, data key destroyed) and print the deletion receipt")
    erase.add_argument("user", help="the tenant's id for the user")
    erase.add_argument("--tenant", required=True, help="the user's tenant (`open` in open mode)")
    erase.set_defaults(fn=cmd_erase)
