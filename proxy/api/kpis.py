"""``GET /v1/kpis``: the product KPIs of the caller's tenant for a period, grouped, and a version comparison.

Query: ``since`` / ``until`` (ISO dates or times, or a span back from now such as ``7d``, ``24h``,
``90m``; default the last 7 days), ``policy`` (one policy's conversations), ``group_by``
(``policy_version`` (default), ``policy`` or ``day``), and ``compare=BASELINE,CANDIDATE`` (two
policy versions, as ``version`` or ``policy@version``) for candidate minus baseline with a 95%
bootstrap interval (``resamples``, default 2000). A conversation counts in the period it started.
The key needs the ``admin`` scope; in open mode the open tenant is served (and the console and
``/readyz`` say loudly that Bedside is open). Computed in a worker thread.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State

from proxy.auth import check_single_credential
from proxy.errors import InvalidRequest, ServiceUnavailable
from proxy.outcomes.kpis import GROUPS, compare_versions, compute_kpis
from proxy.services import Services

_encode = msgspec.json.Encoder().encode
SCOPE = "admin"
_SPAN = re.compile(r"^(\d{1,5})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
DEFAULT_SPAN = timedelta(days=7)
#: the most conversations one KPI request reads (a longer period: narrow it, or use `bedside report`)
MAX_CONVERSATIONS = 200_000


def parse_when(value: str | None, name: str, now: datetime) -> datetime | None:
    """``7d`` / ``24h`` / ``90m`` back from ``now``, or an ISO date or date-time (UTC when no zone)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    span = _SPAN.match(value)
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"'{name}' must be an ISO date or time (2026-12-01, 2026-12-01T09:00:00Z) or a span back from now (7d, 24h, 90m).", param=name, code="invalid_time"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def admin_tenant(request: Request[Any, Any, Any], services: Services) -> str:
    """The caller's tenant, for a key with the ``admin`` scope (one credential only)."""
    check_single_credential(request.scope["headers"])
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    return services.keyring.authenticate_scoped(headers, SCOPE)


def kpi_query(services: Services, tenant: str, params: dict[str, str]) -> dict[str, Any]:
    """Check the query and compute the answer (blocking: call in a worker thread)."""
    outcomes = services.outcomes
    if outcomes is None:
        raise ServiceUnavailable("Outcome facts are turned off on this Bedside (outcomes.enabled): there are no KPIs to show.", code="outcomes_disabled")
    unknown = sorted(set(params) - {"since", "until", "policy", "group_by", "compare", "resamples"})
    if unknown:
        raise InvalidRequest(f"Unknown parameter '{unknown[0][:64]}'. KPIs take since, until, policy, group_by and compare.", param=unknown[0][:64], code="unknown_parameter")
    now = datetime.now(UTC)
    until = parse_when(params.get("until"), "until", now) or now
    since = parse_when(params.get("since"), "since", now) or until - DEFAULT_SPAN
    if since >= until:
        raise InvalidRequest("'since' must be before 'until'.", param="since", code="invalid_time")
    group_by = params.get("group_by") or "policy_version"
    if group_by not in GROUPS:
        raise InvalidRequest(f"'group_by' must be one of {', '.join(GROUPS)}.", param="group_by", code="invalid_group_by")
    compare = [p.strip() for p in (params.get("compare") or "").split(",") if p.strip()]
    if params.get("compare") is not None and len(compare) != 2:
        raise InvalidRequest("'compare' names two policy versions, baseline first: compare=BASELINE,CANDIDATE (as the KPI groups name them).", param="compare", code="invalid_compare")
    resamples_text = params.get("resamples") or "2000"
    if not resamples_text.isdigit() or not 100 <= int(resamples_text) <= 20000:
        raise InvalidRequest("'resamples' must be a whole number from 100 to 20000.", param="resamples", code="invalid_resamples")
    policy = params.get("policy") or None
    rows = outcomes.repo.between(tenant, since, until, policy=policy, limit=MAX_CONVERSATIONS + 1)
    if len(rows) > MAX_CONVERSATIONS:
        raise InvalidRequest(
            f"More than {MAX_CONVERSATIONS:,} conversations started in this period: choose a shorter period or one policy.", param="since", code="too_many_conversations"
        )
    first_seen = outcomes.repo.first_seen(tenant, {r.subject for r in rows if r.subject})
    answer: dict[str, Any] = {"object": "kpis", "tenant": tenant, "since": since.isoformat(), "until": until.isoformat(), "policy": policy}
    answer.update(compute_kpis(rows, group_by=group_by, first_seen=first_seen))
    if compare:
        answer["comparison"] = compare_versions(rows, compare[0], compare[1], resamples=int(resamples_text))
    return answer


@get("/v1/kpis")
async def get_kpis(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    services: Services = state.services
    tenant = admin_tenant(request, services)
    params = {k: v for k, v in request.query_params.items()}
    if services.outcomes is not None:  # count every request finished before this one (the writer batches for up to 0.1 s)
        await anyio.to_thread.run_sync(services.outcomes.recorder.flush, 2.0)
    answer = await anyio.to_thread.run_sync(kpi_query, services, tenant, params)
    return Response(content=_encode(answer), media_type=MediaType.JSON)


ROUTES = [get_kpis]
