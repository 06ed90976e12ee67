"""Bedside's added latency and throughput next to a bare pass-through proxy, in one run.

    python bench/overhead.py [--quick] [--duration S] [--warmup S] [--json [PATH]] [--apis chat,responses]
                             [--concurrency 1,16,64] [--stream-concurrency 1,16] [--chunk-gap-ms MS]

Starts three processes and always stops them at the end (also on Ctrl+C):

* ``bench/fast_upstream.py``: the fake model (fixed chat.completion JSON / 22-event SSE stream),
  pinned to core 1 with the load generator;
* ``bench/floor.py``: a bare aiohttp pass-through proxy, pinned to core 0;
* Bedside (``python -m proxy.cli serve``), pinned to core 0; the two proxies are never loaded at
  the same time, so each has core 0 to itself while it is measured.

Targets: ``direct`` (load generator -> fake upstream), ``floor`` and ``Bedside``. For each point
(mode x concurrency x target) ``bench/load.py`` runs in its own process on core 1: ``concurrency``
keep-alive connections send the same ~70-word chat request (system + user, ``Authorization:
Bearer x``) to ``POST /v1/chat/completions`` back to back, ``--warmup`` seconds unmeasured, then
``--duration`` seconds measured. Added latency = target's percentile minus direct's at the same
concurrency. The same conversation as a Responses request (``instructions`` + ``input``) to
``POST /v1/responses`` is measured beside it (``--apis``): direct, floor, Bedside passing it
through (the fake upstream serves the Responses API and stores responses, so Bedside keeps each
reply's state), and Bedside translating it to chat completions (a second upstream entry set to
``responses: translate``, chosen by the model name ``translated-gpt-4o-mini``). The CPU share of the proxy under test and of core 1 (generator + upstream) is shown
per point, so a saturated load side would be visible.

Bedside reads ``BEDSIDE_*`` variables from this environment (e.g. ``BEDSIDE_POLICY__ENABLED=false``
measures the bare pipeline); the upstream URL, data directory, port and log level are set here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from overhead_report import (  # noqa: E402  # beside this script
    SCENARIO_DISTINCT,
    SCENARIO_LABEL,
    SCENARIO_MODES,
    SUMMARY_HEADER,
    issue_verdicts,
    memory_mib,
    same_round,
    stage_means,
    stage_rows,
    stage_totals,
    summary_rows,
    text_table,
    write_performance_doc,
)

ROOT = BENCH.parent
PY = sys.executable
#: ``bedside``: the example policies (a request for gpt-4o-mini gets default.yaml: persona, emotion,
#: tone, PII with NER, rails); ``passthrough``: bench/policies/passthrough (the policy stage only)
TARGETS = ("direct", "floor", "passthrough", "bedside")
#: ``--framework-floor`` adds ``framework``: bench/framework_floor.py, the floor's pass-through on
#: Litestar + uvicorn (Bedside's stack) with no Bedside code, measured after the aiohttp floor
FRAMEWORK = "framework"
BEDSIDES = ("passthrough", "bedside")
#: the Responses API's targets: the chat ones, plus Bedside translating to chat completions
RESPONSES_TARGETS = (*TARGETS, "translated")
LABEL = {"direct": "direct", "floor": "floor", FRAMEWORK: "Litestar floor", "passthrough": "Bedside, pass-through", "bedside": "Bedside, default", "translated": "Bedside, translated"}
#: the model name that routes to the upstream entry set to translate
TRANSLATED_MODEL = "translated-gpt-4o-mini"
GOAL_ADDED_P50_MS = 1.0  # added p50 at concurrency 1
GOAL_FLOOR_SHARE = 0.50  # Bedside's req/s as a share of the floor's, proxy pinned to one core
PROFILE_CONCURRENCY = 16
NOISE_LIMIT = 0.10  # other processes' CPU on the measured cores above which a point is flagged
LOAD_BEFORE = "-"  # the machine's load average when the run started (for the generated page)
REVISION = ""  # the revision the run started from (git_revision() at start; the processes import the code then)


# ---- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(core: int | None) -> Any:
    if core is None:
        return None

    def _pin() -> None:
        os.sched_setaffinity(0, {core})

    return _pin


@dataclass
class Proc:
    name: str
    argv: list[str]
    port: int
    core: int | None
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    health: str = "/healthz"
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> None:
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                preexec_fn=pin(self.core),
                start_new_session=True,  # Ctrl+C reaches only this script, which stops them in order
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}{self.health}"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.popen.returncode} before it was ready:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s ({url}):\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def rss_mib(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AssertionError):
            return None
        return None

    def stop(self) -> None:
        p = self.popen
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(timeout=5)


# ---- measuring -----------------------------------------------------------------------------


def run_point(
    port: int,
    conc: int,
    stream: bool,
    args: argparse.Namespace,
    core: int | None,
    watch: list[int],
    profile: tuple[int, Path] | None = None,
    *,
    api: str = "chat",
    model: str | None = None,
    scenario: str | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    argv = [PY, str(BENCH / "load.py"), "--port", str(port), "--concurrency", str(conc), "--api", api]
    argv += ["--model", model] if model else []
    argv += ["--duration", str(args.duration), "--warmup", str(args.warmup), "--timeout", "20"]
    argv += ["--stream"] if stream else []
    argv += ["--distinct", str(args.distinct)] if scenario is None else ["--scenario", scenario, "--distinct", str(SCENARIO_DISTINCT), "--offset", str(offset)]
    for pid in watch:
        argv += ["--watch-pid", str(pid)]
    spy: subprocess.Popen[bytes] | None = None
    if profile is not None:  # sample the proxy for the whole point, without pausing it
        pid, out = profile
        # --gil: only the thread holding the GIL is sampled, i.e. where this process's Python CPU goes
        spy_argv = [args.py_spy, "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--gil", "--format", "raw", "-o", str(out)]
        spy_argv += ["--duration", str(max(1, round(args.warmup + args.duration)))]
        spy = subprocess.Popen(spy_argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin(core), start_new_session=True)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=args.warmup + args.duration + 60, preexec_fn=pin(core), check=False)
    finally:
        if spy is not None:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(timeout=5)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def upstream_stats(port: int) -> dict[str, int] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=5) as resp:
            stats: dict[str, int] = json.loads(resp.read())
            return stats
    except (OSError, ValueError):
        return None


def smoke(port: int, name: str) -> str:
    """One JSON and one streamed request; returns the reply text or raises with what came back."""
    sys.path.insert(0, str(BENCH))
    from load import chat_body

    texts = []
    for stream in (False, True):
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=chat_body(stream),
            headers={"Authorization": "Bearer x", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{name} answered {exc.code} to the benchmark request: {exc.read().decode(errors='replace')[:500]}") from None
        if stream:
            parts = []
            for line in raw.splitlines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    for choice in json.loads(line[6:]).get("choices") or ():
                        parts.append((choice.get("delta") or {}).get("content") or "")
            texts.append("".join(parts))
        else:
            texts.append(json.loads(raw)["choices"][0]["message"]["content"])
    if not texts[0] or texts[0] != texts[1]:
        raise RuntimeError(f"{name}: JSON and streamed replies differ or are empty: {texts!r}")
    return texts[0]


def smoke_responses(port: int, name: str, model: str = "gpt-4o-mini") -> str:
    """One JSON and one streamed Responses request; returns the reply text or raises with what came back."""
    sys.path.insert(0, str(BENCH))
    from load import responses_body

    texts = []
    for stream in (False, True):
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/responses", data=responses_body(stream, model=model), headers={"Authorization": "Bearer x", "Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{name} answered {exc.code} to the Responses benchmark request: {exc.read().decode(errors='replace')[:500]}") from None
        if stream:
            events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
            texts.append("".join(e.get("delta") or "" for e in events if e.get("type") == "response.output_text.delta"))
        else:
            body = json.loads(raw)
            texts.append("".join(p["text"] for item in body["output"] if item["type"] == "message" for p in item["content"] if p["type"] == "output_text"))
    if not texts[0] or texts[0] != texts[1]:
        raise RuntimeError(f"{name}: JSON and streamed Responses replies differ or are empty: {texts!r}")
    return texts[0]


def annotate(res: dict[str, Any], target: str, pid: int, upstream_pid: int, proxy_core: int | None, load_core: int | None) -> None:
    """Add proxy_cpu, load_cpu (generator + upstream) and other_cpu (anyone else on those cores)."""
    cpu = res.get("cpu") or {}
    up_cpu = cpu.get(str(upstream_pid)) or 0.0
    res["load_cpu"] = (res.get("gen_cpu") or 0.0) + up_cpu
    res["proxy_cpu"] = cpu.get(str(pid)) if target != "direct" else None
    busy = res.get("core_busy") or {}
    if proxy_core is None or load_core is None or str(proxy_core) not in busy or str(load_core) not in busy:
        res["other_cpu"] = None
        return
    other_load = max(0.0, busy[str(load_core)] - res["load_cpu"])
    other_proxy = max(0.0, busy[str(proxy_core)] - (res["proxy_cpu"] or 0.0))
    # what matters: the core of the proxy under test, and the load core for the direct target
    res["other_cpu"] = other_load if target == "direct" else max(other_proxy, other_load)
    res["other_cpu_by_core"] = {str(proxy_core): other_proxy, str(load_core): other_load}


def progress_line(res: dict[str, Any], mode: str) -> str:
    lat = res["lat"] or {}
    msg = f"{res['rps']:>8,.0f} {'streams' if mode == 'sse' else 'req'}/s  p50 {fmt_ms(lat.get('p50'))} ms  p99 {fmt_ms(lat.get('p99'))} ms"
    if res.get("ttft"):
        msg += f"  TTFT p50 {fmt_ms(res['ttft']['p50'])} ms"
    if res["proxy_cpu"] is not None:
        msg += f"  proxy CPU {fmt_pct(res['proxy_cpu'])}"
    msg += f"  load CPU {fmt_pct(res['load_cpu'])}"
    conns, reqs = res.get("upstream_connections"), res.get("upstream_requests")
    if conns is not None and reqs:
        # the load generator holds `concurrency` connections; a pooled proxy opens about as many upstream
        msg += f"  upstream conns +{conns}" + (" (NOT POOLED?)" if conns > 2 * res["concurrency"] + 2 else "")
    if res.get("other_cpu") is not None:
        msg += f"  other {fmt_pct(res['other_cpu'])}" + (" (disturbed)" if res["other_cpu"] > NOISE_LIMIT else "")
    if res["errors"]:
        msg += f"  ERRORS {res['errors']} {res['error_kinds']} e.g. {res['error_samples'][:1]}"
    return msg


def profile_summary(raw: Path, top: int = 14) -> list[str]:
    """Hot spots from py-spy's collapsed stacks (GIL holder only): Bedside's functions (proxy/) by
    inclusive share, the innermost Bedside frame of each sample, and the leaf frames."""
    frame_re = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")

    def name(frame: str) -> str:
        m = frame_re.match(frame)
        if not m:
            return frame
        fn, path = m.groups()
        path = re.sub(r".*/site-packages/", "", path)
        path = re.sub(r".*/lib/python3\.\d+/", "", path)
        path = path.replace(str(ROOT) + "/", "")
        return f"{fn} ({path})"

    total = worker = 0
    incl: dict[str, int] = {}
    own: dict[str, int] = {}  # innermost proxy/ frame: its own code plus the library calls it makes
    leaf: dict[str, int] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [name(f) for f in stack.split(";")]
        n = int(count)
        total += n
        if any("Thread._bootstrap" in f for f in frames):
            worker += n
        for f in set(frames):
            if "(proxy/" in f and not f.startswith(("<module>", "main ", "cmd_serve ")):
                incl[f] = incl.get(f, 0) + n
        mine = [f for f in frames if "(proxy/" in f and not f.startswith(("<module>", "main ", "cmd_serve "))]
        key = mine[-1] if mine else "(no Bedside frame: server, framework, event loop)"
        own[key] = own.get(key, 0) + n
        leaf[frames[-1]] = leaf.get(frames[-1], 0) + n
    if not total:
        return ["  (no samples)"]
    out = [f"  {total} samples holding the GIL, {worker / total:.0%} of them in worker threads; Bedside's functions, inclusive:"]
    out += [f"    {n / total:6.1%}  {f}" for f, n in sorted(incl.items(), key=lambda kv: -kv[1])[:top]]
    out.append("  innermost Bedside frame (its own code plus the library calls it makes directly):")
    out += [f"    {n / total:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    out.append("  leaf frames (where the CPU actually is):")
    out += [f"    {n / total:6.1%}  {f}" for f, n in sorted(leaf.items(), key=lambda kv: -kv[1])[:top]]
    return out


# ---- reporting -----------------------------------------------------------------------------


def git_revision() -> str:
    """The commit measured, ``+uncommitted changes`` when the tree differs from it."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return f"commit {rev}" + (" + uncommitted changes" if dirty else "")


def measured_revision() -> str:
    """The revision the run started from, and whether the working tree changed while it ran."""
    changed = git_revision() != REVISION
    return REVISION + ("; the working tree changed during the run, after the processes measured had started" if changed else "")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def fmt_ms(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.2f}" if signed else f"{v:.2f}"


def fmt_pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.0f}%"


def added(res: dict[str, Any], direct: dict[str, Any], key: str, pct: str) -> float | None:
    a, b = res.get(key), direct.get(key)
    if not a or not b:
        return None
    return float(a[pct] - b[pct])


def _other(*points: dict[str, Any] | None) -> float | None:
    vals = [p["other_cpu"] for p in points if p and p.get("other_cpu") is not None]
    return max(vals) if vals else None


Column = tuple[str, str, int, Any]  # group, header, width, (row points) -> text


def render(columns: list[Column], rows: list[dict[str, Any]]) -> list[str]:
    """A fixed-width table with a dashed group header over each run of columns of one group."""
    groups: list[tuple[str, int]] = []
    for group, _, width, _ in columns:
        if groups and groups[-1][0] == group:
            groups[-1] = (group, groups[-1][1] + width + 1)
        else:
            groups.append((group, width))
    top = " ".join((f" {g} ".center(w, "-") if g else " " * w) for g, w in groups)
    head = " ".join(f"{h:>{w}}" for _, h, w, _ in columns)
    body = [" ".join(f"{fn(r):>{w}}" for _, _, w, fn in columns) for r in rows]
    return [top.rstrip(), head, *body]


def _cpu_us(r: dict[str, Any] | None) -> float | None:
    """CPU time the proxy spent per request, in microseconds (robust to other load on the machine)."""
    if not r or r.get("proxy_cpu") is None or not r["rps"]:
        return None
    return float(r["proxy_cpu"]) / float(r["rps"]) * 1e6


def _us(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _rps(r: dict[str, Any] | None) -> str:
    return "-" if not r else f"{r['rps']:,.0f}"


def _pick(key: str, pct: str, absolute: bool = False) -> Any:
    """A column function: the target's percentile (absolute) or added over direct."""

    def fn(row: dict[str, Any], who: str) -> str:
        r, d = row.get(who), row.get("direct")
        if not r or not r.get(key):
            return "-"
        if absolute:
            return fmt_ms(r[key][pct])
        return fmt_ms(added(r, d, key, pct), True) if d else "-"

    return fn


def _col(group: str, header: str, width: int, fn: Any, who: str) -> Column:
    return (group, header, width, lambda row: fn(row, who))


def _table_rows(results: dict[tuple[str, int, str], dict[str, Any]], mode: str, concs: list[int]) -> list[dict[str, Any]]:
    rows = []
    for c in concs:
        row: dict[str, Any] = {t: results.get((mode, c, t)) for t in (*RESPONSES_TARGETS, FRAMEWORK)}
        row["conc"] = c
        rows.append(row)
    return rows


def nonstream_table(results: dict[tuple[str, int, str], dict[str, Any]], concs: list[int], mode: str = "json", proxies: tuple[str, ...] = ("floor", "bedside")) -> list[str]:
    cols: list[Column] = [("", "conc", 5, lambda row: str(row["conc"]))]
    cols += [
        _col("direct", "req/s", 7, lambda row, w: _rps(row.get(w)), "direct"),
        _col("direct", "p50", 6, _pick("lat", "p50", True), "direct"),
        _col("direct", "p99", 6, _pick("lat", "p99", True), "direct"),
    ]
    for who in proxies:
        g = LABEL[who]
        cols += [
            _col(g, "req/s", 7, lambda row, w: _rps(row.get(w)), who),
            _col(g, "+p50", 6, _pick("lat", "p50"), who),
            _col(g, "+p99", 7, _pick("lat", "p99"), who),
            _col(g, "cpu", 5, lambda row, w: fmt_pct((row.get(w) or {}).get("proxy_cpu")), who),
            _col(g, "us/req", 6, lambda row, w: _us(_cpu_us(row.get(w))), who),
        ]
    cols += [
        ("Bedside vs floor", "req/s", 6, lambda row: fmt_pct(_ratio((row.get("bedside") or {}).get("rps"), (row.get("floor") or {}).get("rps")))),
        ("Bedside vs floor", "CPU/req", 8, lambda row: _times(_ratio(_cpu_us(row.get("bedside")), _cpu_us(row.get("floor"))))),
        ("", "other", 5, lambda row: fmt_pct(_other(*(row.get(t) for t in RESPONSES_TARGETS)))),
    ]
    return render(cols, _table_rows(results, mode, concs))


def _times(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def stream_table(results: dict[tuple[str, int, str], dict[str, Any]], concs: list[int], mode: str = "sse", proxies: tuple[str, ...] = ("floor", "bedside")) -> list[str]:
    cols: list[Column] = [("", "conc", 5, lambda row: str(row["conc"]))]
    cols += [
        _col("direct", "str/s", 6, lambda row, w: _rps(row.get(w)), "direct"),
        _col("direct", "TTFT50", 6, _pick("ttft", "p50", True), "direct"),
        _col("direct", "TTFT99", 6, _pick("ttft", "p99", True), "direct"),
        _col("direct", "tot50", 6, _pick("lat", "p50", True), "direct"),
        _col("direct", "tot99", 6, _pick("lat", "p99", True), "direct"),
    ]
    for who in proxies:
        g = LABEL[who]
        cols += [
            _col(g, "str/s", 6, lambda row, w: _rps(row.get(w)), who),
            _col(g, "+TTFT50", 7, _pick("ttft", "p50"), who),
            _col(g, "+TTFT99", 7, _pick("ttft", "p99"), who),
            _col(g, "+tot50", 7, _pick("lat", "p50"), who),
            _col(g, "+tot99", 7, _pick("lat", "p99"), who),
            _col(g, "us/str", 6, lambda row, w: _us(_cpu_us(row.get(w))), who),
        ]
    cols.append(("", "other", 5, lambda row: fmt_pct(_other(*(row.get(t) for t in RESPONSES_TARGETS)))))
    return render(cols, _table_rows(results, mode, concs))


def verdicts(results: dict[tuple[str, int, str], dict[str, Any]], concs: list[int]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    d, b = results.get(("json", 1, "direct")), results.get(("json", 1, "bedside"))
    if d and b and d["lat"] and b["lat"]:
        a = added(b, d, "lat", "p50")
        assert a is not None
        rows.append((f"added p50 at concurrency 1 <= {GOAL_ADDED_P50_MS:g} ms", f"{a:+.2f} ms", "MET" if a <= GOAL_ADDED_P50_MS else "MISSED"))
    for c in concs:
        f, b = results.get(("json", c, "floor")), results.get(("json", c, "bedside"))
        if c > 1 and f and b and f["rps"]:
            share = b["rps"] / f["rps"]
            rows.append((f"req/s >= {GOAL_FLOOR_SHARE:.0%} of the floor's, concurrency {c}", f"{share:.0%} ({b['rps']:,.0f} / {f['rps']:,.0f})", "MET" if share >= GOAL_FLOOR_SHARE else "MISSED"))
            est = _ratio(_cpu_us(f), _cpu_us(b))
            if est is not None:
                rows.append(
                    (
                        f"  same, from CPU time per request (c={c})",
                        f"{est:.0%} ({_us(_cpu_us(f))} / {_us(_cpu_us(b))} us)",
                        ("MET" if est >= GOAL_FLOOR_SHARE else "MISSED") + " (estimate, robust to other load)",
                    )
                )
    return rows


def responses_beside_chat(results: dict[tuple[str, int, str], dict[str, Any]]) -> list[str]:
    """Bedside's added p50 at concurrency 1 on each API, JSON and streamed (TTFT), side by side."""
    out: list[str] = []
    for kind, key, chat_mode, resp_mode in (("JSON latency", "lat", "json", "responses-json"), ("stream TTFT", "ttft", "sse", "responses-sse")):
        cells = []
        for label, mode, target in (("chat", chat_mode, "bedside"), ("responses", resp_mode, "bedside"), ("responses translated", resp_mode, "translated")):
            r, d = results.get((mode, 1, target)), results.get((mode, 1, "direct"))
            a = added(r, d, key, "p50") if r and d else None
            cells.append(f"{label} {fmt_ms(a, True)}")
        out.append(f"{kind:<13} " + ", ".join(cells))
    return out


# ---- main ----------------------------------------------------------------------------------


def passthrough_env(bed_env: dict[str, str], tmp: Path) -> dict[str, str]:
    """The pass-through Bedside's environment: the default one's, with its own data directory and
    the policy directory ``bench/policies/passthrough`` (the policy stage only)."""
    env = dict(bed_env)
    env["BEDSIDE_DATA_DIR"] = str(tmp / "data-passthrough")
    env["BEDSIDE_POLICY__DIRECTORY"] = str(BENCH / "policies" / "passthrough")
    return env


def migrate_first(env: dict[str, str], cwd: Path) -> None:
    """``bedside db upgrade`` before serving, as a deployment does: a migrated database lets
    ``serve`` start without loading alembic."""
    done = subprocess.run([PY, "-m", "proxy.cli", "db", "upgrade"], env=env, cwd=cwd, capture_output=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bedside db upgrade failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-2000:]}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Bedside's added latency and throughput next to the floor (a bare proxy), one run.")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 s per point after 0.3 s warm-up")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per point (default 4; --quick 1)")
    p.add_argument("--warmup", type=float, default=None, help="unmeasured seconds before each point (default 1; --quick 0.3)")
    p.add_argument("--concurrency", default="1,16,64", help="non-streaming concurrencies (default 1,16,64)")
    p.add_argument("--stream-concurrency", default="1,16", help="streaming concurrencies (default 1,16)")
    p.add_argument("--chunk-gap-ms", type=float, default=1.0, help="fake model's pause between stream events (default 1; 0 = whole stream in one write)")
    p.add_argument("--json", nargs="?", const=str(BENCH / "results" / "overhead.json"), default=None, metavar="PATH", help="also write the figures as JSON (default path bench/results/overhead.json)")
    p.add_argument("--distinct", type=int, default=1024, help="distinct request bodies (they differ in an order number; 1 = the same body, so content caches always hit)")
    p.add_argument("--rounds", type=int, default=1, help="measure every point N times (interleaved) and report, per mode and concurrency, one undisturbed round for every target (the floor's median)")
    p.add_argument("--profile", metavar="DIR", default=None, help="sample Bedside with py-spy during its concurrency-16 points; stacks and hot spots go to DIR")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    p.add_argument("--no-stream-configs", action="store_true", help="skip the streaming rows of Bedside pass-through and default policy (bench/overhead_stream.py)")
    p.add_argument("--scenarios", default="first-turn,turn20", help="chat scenarios beside the repeated message: first-turn (a new 150-word first turn), turn20 (a 20th turn); '' for none")
    p.add_argument("--scenario-concurrency", default="1", help="concurrencies of the scenario points (default 1)")
    p.add_argument("--write-docs", nargs="?", const=str(ROOT / "docs" / "performance.md"), default=None, metavar="PATH", help="regenerate the figures in docs/performance.md (or PATH) from this run")
    p.add_argument("--framework-floor", action="store_true", help="also measure bench/framework_floor.py: the same bare pass-through on Litestar + uvicorn, no Bedside code")
    p.add_argument("--apis", default="chat,responses", help="APIs to measure: chat (POST /v1/chat/completions), responses (POST /v1/responses), or both (default)")
    args = p.parse_args(argv)
    args.duration = args.duration if args.duration is not None else (1.0 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 1.0)
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 30:
        p.error("--duration must be in (0, 120] and --warmup in [0, 30] seconds")
    try:
        args.concs = [int(x) for x in args.concurrency.split(",") if x.strip()]
        args.sconcs = [int(x) for x in args.stream_concurrency.split(",") if x.strip()]
        args.scenario_concs = [int(x) for x in args.scenario_concurrency.split(",") if x.strip()]
    except ValueError:
        p.error("concurrencies are comma-separated integers, e.g. 1,16,64")
    args.py_spy = None
    if args.profile:
        args.py_spy = shutil.which("py-spy") or (str(Path(PY).parent / "py-spy") if (Path(PY).parent / "py-spy").exists() else None)
        if args.py_spy is None:
            p.error("--profile needs py-spy: pip install py-spy")
    if not 1 <= args.distinct <= 100_000:
        p.error("--distinct must be between 1 and 100000")
    args.api_list = [a.strip() for a in args.apis.split(",") if a.strip()]
    args.targets = (*TARGETS[:2], FRAMEWORK, *TARGETS[2:]) if args.framework_floor else TARGETS
    args.shown = tuple(t for t in args.targets if t != "direct")
    args.scenario_list = [x.strip() for x in args.scenarios.split(",") if x.strip()]
    if not set(args.scenario_list) <= set(SCENARIO_MODES):
        p.error(f"--scenarios names some of {', '.join(SCENARIO_MODES)}")
    if not args.api_list or not set(args.api_list) <= {"chat", "responses"}:
        p.error("--apis is chat, responses or chat,responses")
    if not 1 <= args.rounds <= 10:
        p.error("--rounds must be between 1 and 10")
    if not all(1 <= c <= 1024 for c in args.concs + args.sconcs):
        p.error("each concurrency must be between 1 and 1024")
    return args


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (a background job)
        signal.signal(sig, _raise_interrupt)
    cores = sorted(os.sched_getaffinity(0))
    if args.no_pin or len(cores) < 2:
        proxy_core = load_core = None
        pinning = "not pinned" + (" (fewer than 2 usable cores)" if len(cores) < 2 else "")
    else:
        proxy_core, load_core = cores[0], cores[1]
        pinning = f"proxy under test on core {proxy_core} alone; fake upstream + load generator on core {load_core}"
        os.sched_setaffinity(0, {load_core})

    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    global LOAD_BEFORE, REVISION
    LOAD_BEFORE = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    REVISION = git_revision()  # what the processes measured start from (they import the code once, at start)
    print(f"Bedside overhead bench, {now}")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores ({len(cores)} usable); Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"Bedside: {REVISION} ({ROOT})")
    print(f"Pinning: {pinning}")
    print(f"Each point: {args.warmup:g} s warm-up + {args.duration:g} s measured; closed loop, keep-alive; POST /v1/chat/completions,")
    print(f"  ~70-word system+user chat body ({args.distinct} distinct, cycled); fake model streams 22 events {args.chunk_gap_ms:g} ms apart")
    if "responses" in args.api_list:
        print("  and POST /v1/responses: the same text as instructions + input; the fake model answers a stored response (28 typed")
        print(f"  events when streamed); Bedside passes it through, and translates it to chat completions for the model {TRANSLATED_MODEL}")
    if args.rounds > 1:
        print(f"Rounds: {args.rounds}, interleaved; each mode and concurrency reports one round for all targets: undisturbed, the floor's median")
    print(f"Issue targets: added p50 <= {GOAL_ADDED_P50_MS:g} ms at concurrency 1; Bedside >= {GOAL_FLOOR_SHARE:.0%} of the floor's req/s (proxy on one core)")
    print(flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="bedside-bench-"))
    up_port, floor_port, bed_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    bed_env = dict(env)
    upstreams = [
        {"name": "fast", "base_url": f"http://127.0.0.1:{up_port}/v1", "models": ["gpt-4o-mini"]},
        {"name": "fast-chat-only", "base_url": f"http://127.0.0.1:{up_port}/v1", "responses": "translate"},  # the same server, Responses translated
    ]
    bed_env.update(
        BEDSIDE_UPSTREAMS=json.dumps(upstreams),
        BEDSIDE_DATA_DIR=str(tmp / "data"),
        BEDSIDE_LOG__LEVEL="warning",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        BEDSIDE_QUICKSTART="1",  # the KEK is kept in the run's own data directory
    )
    bed_env.pop("BEDSIDE_DEMO", None)
    bed_env.pop("BEDSIDE_UPSTREAM_URL", None)
    bed_env.setdefault("BEDSIDE_POLICY__DIRECTORY", str(ROOT / "policies"))
    procs = {
        "upstream": Proc("fast upstream", [PY, str(BENCH / "fast_upstream.py"), "--port", str(up_port), "--chunk-gap-ms", str(args.chunk_gap_ms)], up_port, load_core, tmp / "upstream.log", env),
        "floor": Proc("floor", [PY, str(BENCH / "floor.py"), "--upstream", f"http://127.0.0.1:{up_port}", "--port", str(floor_port)], floor_port, proxy_core, tmp / "floor.log", env),
        # cwd is the empty temp dir, so a developer's .env does not change what is measured
        "bedside": Proc("Bedside", [PY, "-m", "proxy.cli", "serve", "--host", "127.0.0.1", "--port", str(bed_port)], bed_port, proxy_core, tmp / "bedside.log", bed_env, cwd=tmp),
    }
    pass_port, pass_env = free_port(), passthrough_env(bed_env, tmp)
    pass_argv = [PY, "-m", "proxy.cli", "serve", "--host", "127.0.0.1", "--port", str(pass_port)]
    procs["passthrough"] = Proc("Bedside pass-through", pass_argv, pass_port, proxy_core, tmp / "passthrough.log", pass_env, cwd=tmp)
    ports = {"direct": up_port, "floor": floor_port, "passthrough": pass_port, "bedside": bed_port, "translated": bed_port}
    if args.framework_floor:
        ports[FRAMEWORK] = free_port()
        fw_argv = [PY, str(BENCH / "framework_floor.py"), "--upstream", f"http://127.0.0.1:{up_port}", "--port", str(ports[FRAMEWORK])]
        procs[FRAMEWORK] = Proc("Litestar floor", fw_argv, ports[FRAMEWORK], proxy_core, tmp / "framework.log", env)
    memory: dict[str, dict[str, float]] = {}
    runs: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    profiles: list[tuple[str, Path]] = []
    rss: float | None = None
    rss_idle: float | None = None
    interrupted = failed = False
    try:
        migrate_first(bed_env, tmp)  # as a deployment does (`bedside db upgrade`); serve then never loads alembic
        migrate_first(pass_env, tmp)
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            proc.wait_ready()
        for target in args.targets:
            if "chat" in args.api_list:
                smoke(ports[target], LABEL[target])
        if "responses" in args.api_list:
            for target in RESPONSES_TARGETS:
                smoke_responses(ports[target], LABEL[target], TRANSLATED_MODEL if target == "translated" else "gpt-4o-mini")
        rss_idle = procs["bedside"].rss_mib()
        for target in BEDSIDES:
            memory[target] = {"start": memory_mib(procs[target].pid)["rss"]} if memory_mib(procs[target].pid) else {}
        print(
            f"ready: upstream :{up_port}, floor :{floor_port}, Bedside (default) :{bed_port} (RSS {rss_idle or 0:.1f} MiB),"
            f" Bedside (pass-through) :{pass_port} (RSS {memory['passthrough'].get('start', 0):.1f} MiB); replies check out",
            flush=True,
        )

        points: list[tuple[str, int, str]] = []
        if "chat" in args.api_list:
            points += [("json", c, t) for c in args.concs for t in args.targets] + [("sse", c, t) for c in args.sconcs for t in args.targets]
        if "responses" in args.api_list:
            points += [("responses-json", c, t) for c in args.concs for t in RESPONSES_TARGETS]
            points += [("responses-sse", c, t) for c in args.sconcs for t in RESPONSES_TARGETS]
        if "chat" in args.api_list:
            points += [(scenario, c, t) for scenario in args.scenario_list for c in args.scenario_concs for t in args.targets]
        plan = [(r, *point) for r in range(1, args.rounds + 1) for point in points]
        for i, (rnd, mode, conc, target) in enumerate(plan, 1):
            proc = procs["upstream" if target == "direct" else "bedside" if target == "translated" else target]
            watch = [proc.pid] if target == "direct" else [proc.pid, procs["upstream"].pid]
            where = f"round {rnd} " if args.rounds > 1 else ""
            stream, api = mode.endswith("sse"), "responses" if mode.startswith("responses") else "chat"
            label = f"{'Responses ' if api == 'responses' else ''}{'streaming' if stream else 'JSON'}"
            scenario = mode if mode in SCENARIO_MODES else None
            label = {"first-turn": "new first turn", "turn20": "turn 20"}.get(mode, label)
            print(f"[{i:>2}/{len(plan)}] {where}{label:>19}  c={conc:<3} {LABEL[target]:<19} ", end="", flush=True)
            spy = None
            if args.profile and target in ("bedside", "passthrough", "translated") and conc == PROFILE_CONCURRENCY and rnd == 1:
                spy = (proc.pid, Path(args.profile) / f"{target}-{mode}-c{conc}.txt")
                spy[1].parent.mkdir(parents=True, exist_ok=True)
                profiles.append((f"{LABEL[target]}, {label} c={conc}", spy[1]))
            before = upstream_stats(up_port)
            model = TRANSLATED_MODEL if target == "translated" else None
            stages_before = stage_totals(ports[target]) if target in BEDSIDES else None
            res = run_point(ports[target], conc, stream, args, load_core, watch, spy, api=api, model=model, scenario=scenario, offset=i * SCENARIO_DISTINCT)
            if target in BEDSIDES:
                res["stages"] = stage_means(stages_before, stage_totals(ports[target]))
            after = upstream_stats(up_port)
            if before and after:
                res["upstream_connections"] = after["connections"] - before["connections"]
                res["upstream_requests"] = after["requests"] - before["requests"]
            annotate(res, target, proc.pid, procs["upstream"].pid, proxy_core, load_core)
            runs.setdefault((mode, conc, target), []).append(res)
            print(progress_line(res, "sse" if stream else "json"), flush=True)
            if proc.popen is not None and proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} died during the run:\n{proc.tail()}")
        rss = procs["bedside"].rss_mib()
        for target in BEDSIDES:
            mem_now = memory_mib(procs[target].pid) or {}
            memory.setdefault(target, {}).update({"end": mem_now.get("rss", 0.0), "hwm": mem_now.get("hwm", 0.0)})
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping the processes and printing what was measured", file=sys.stderr)
    except RuntimeError as exc:
        failed = True
        print(f"\nbench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(list(procs.values())):
            proc.stop()
        # keep the logs (and Bedside's data dir) only when a process did not end cleanly
        if failed or any(p.popen is not None and p.popen.returncode not in (0, -signal.SIGTERM, None) for p in procs.values()):
            print(f"process logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    # per mode and concurrency, one round for every target: undisturbed, the floor's median
    results = same_round(runs, NOISE_LIMIT)
    print()
    if any(k[0] == "json" for k in results):
        print("Non-streaming JSON: req/s; latency ms (direct: absolute; floor/Bedside: added over direct at the same concurrency)")
        print("  cpu = the proxy's CPU share (1 core = 100%); us/req = its CPU time per request (robust to other load);")
        print("  other = the most CPU other processes took on the measured cores (over ~10%: the point is disturbed)")
        print("\n".join(nonstream_table(results, args.concs, proxies=args.shown)))
        print()
    for scenario in SCENARIO_MODES:
        if any(k[0] == scenario for k in results):
            print(f"Chat JSON, {SCENARIO_LABEL[scenario]}: as above")
            print("\n".join(nonstream_table(results, args.scenario_concs, scenario, args.shown)))
            print()
    if any(k[0] == "sse" for k in results):
        print("Streaming SSE: streams/s; TTFT = first content chunk, tot = last byte; ms (floor/Bedside: added over direct);")
        print("  us/str = the proxy's CPU time per stream")
        print("\n".join(stream_table(results, args.sconcs, proxies=args.shown)))
        print()
    if any(k[0] == "responses-json" for k in results):
        print("Responses API, JSON: req/s; latency ms (as above; 'Bedside, translated' answers from the fake model's chat completions)")
        print("\n".join(nonstream_table(results, args.concs, "responses-json", ("floor", "bedside", "translated"))))
        print()
    if any(k[0] == "responses-sse" for k in results):
        print("Responses API, streaming: TTFT = the first response.output_text.delta with text; ms (as above)")
        print("\n".join(stream_table(results, args.sconcs, "responses-sse", ("floor", "bedside", "translated"))))
        print()
    side = responses_beside_chat(results)
    if side:
        print("Responses beside chat completions: Bedside's added p50 at concurrency 1 (ms, over direct on the same API)")
        for line in side:
            print(f"  {line}")
        print()
    conc = PROFILE_CONCURRENCY if PROFILE_CONCURRENCY in args.concs else max(args.concs, default=1)
    print("Both configurations beside the floor (issue 20's table; RSS in MiB)")
    print("\n".join("  " + line for line in text_table([h.format(conc=conc) for h in SUMMARY_HEADER], summary_rows(results, memory, conc))))
    print()
    rows = issue_verdicts(results, memory, conc)
    if rows:
        print("Targets from the issue")
        for goal, measured, verdict in rows:
            print(f"  {goal:<66} {measured:<12} {verdict}")
    header, stage_table_rows = stage_rows(results, conc)
    if stage_table_rows:
        print("\nPer-stage cost: us per request in each stage (bedside_stage_seconds, request phase, wall time)")
        print("\n".join("  " + line for line in text_table(header, stage_table_rows)))
    if args.write_docs:
        intro = [
            f"Measured {now} by `python bench/overhead.py {' '.join(sys.argv[1:])}` at {measured_revision()} on {cpu_model()}, "
            f"{os.cpu_count()} cores; {pinning}; load average before the run {LOAD_BEFORE}."
        ]
        write_performance_doc(Path(args.write_docs), intro, results, memory, conc)
        print(f"\nfigures written to {args.write_docs}")
    errors = sum(r["errors"] for r in results.values())
    if errors:
        print(f"  WARNING: {errors} failed requests in the reported points (see the progress lines)")
    noisy = [(k, r["other_cpu"]) for k, r in results.items() if (r.get("other_cpu") or 0) > NOISE_LIMIT]
    if noisy:
        worst_key, worst = max(noisy, key=lambda kv: kv[1])
        print(
            f"  WARNING: other processes used up to {worst:.0%} of a core next to the measured processes"
            f" ({len(noisy)} of {len(results)} points over {NOISE_LIMIT:.0%}; worst: {worst_key[0]} c={worst_key[1]} {LABEL[worst_key[2]]})."
            " The figures are disturbed: rerun on a quiet machine, or with --rounds 3 (an undisturbed round is shown)."
        )

    for label, path in profiles:
        if path.exists():
            print(f"\nProfile of Bedside, {label} (py-spy, {path}):")
            print("\n".join(profile_summary(path)))

    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "when": now,
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "revision": measured_revision(),
            "pinning": pinning,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "chunk_gap_ms": args.chunk_gap_ms,
            "distinct_bodies": args.distinct,
            "bedside_rss_mib": {"start": rss_idle, "end": rss},
            "targets": [{"goal": g, "measured": m, "verdict": v} for g, m, v in rows],
            "points": [{"mode": m, "concurrency": c, "target": t, **r} for (m, c, t), r in results.items()],
            "all_rounds": [{"mode": m, "concurrency": c, "target": t, "round": i, **r} for (m, c, t), rs in runs.items() for i, r in enumerate(rs, 1)],
        }
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"figures written to {out}")
    if interrupted:
        return 130
    return stream_configs(args)


def stream_configs(args: argparse.Namespace) -> int:
    """The streaming rows of Bedside pass-through and Bedside default policy beside the floor
    (``bench/overhead_stream.py``, its own processes, the same pinning and point length)."""
    if args.no_stream_configs or "chat" not in args.api_list or not args.sconcs:
        return 0
    import overhead_stream

    print()
    sub = argparse.Namespace(**{**vars(args), "distinct": 1, "json": None, "stream_concurrency": ",".join(map(str, args.sconcs))})
    return overhead_stream.run(overhead_stream.finish_args(sub))


if __name__ == "__main__":
    sys.exit(main())
