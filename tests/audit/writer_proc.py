"""A separate process writing audit entries (run by ``test_processes.py``).

``python -m tests.audit.writer_proc URL TAG COUNT MODE``: ``COUNT`` events tagged ``TAG`` through
the writer thread (``MODE=queue``), or one ``append_sync`` at a time (``MODE=sync``); ``COUNT=0``
writes until killed. Prints ``ready`` once it has written its first entry, then waits for a line
on standard input (the parent starts every writer at once)."""

from __future__ import annotations

import sys

from proxy.audit.events import AdminAction
from proxy.audit.log import AuditLog
from proxy.storage.engine import make_engine


def main() -> None:
    url, tag, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    log = AuditLog(make_engine(url), batch_size=50)
    log.append_sync(AdminAction(action=f"{tag}-start", reason="process test"))
    print("ready", flush=True)
    sys.stdin.readline()
    i = 0
    while count == 0 or i < count:
        event = AdminAction(action=f"{tag}-{i}", reason="process test")
        if mode == "sync":
            log.append_sync(event)
        else:
            while not log.submit(event):
                pass
        i += 1
    if not log.stop(60):
        sys.exit(3)


if __name__ == "__main__":
    main()
