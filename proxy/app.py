"""``create_app(settings, *, upstream_transport=None) -> Litestar``.

``upstream_transport`` replaces the upstream HTTP client: an ``httpx`` transport (e.g.
``httpx.MockTransport`` or respx's handler) or any ``HttpTransport``. Nothing is built at import
time; everything comes from ``settings``. The process start-up step
(:func:`proxy.runtime.prepare_process`) runs first, before anything is built.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.datastructures import State

from proxy.api import audit, console, feedback, health, kpis, openai_routes, privacy, responses_routes, rights, transcripts
from proxy.api.drain import Drain
from proxy.api.errors import EXCEPTION_HANDLERS
from proxy.api.health import ReadinessCache
from proxy.api.openai_routes import ModelCatalogue
from proxy.runtime import prepare_process
from proxy.services import Services, build_services
from proxy.settings import Settings


def create_app(settings: Settings | None = None, *, upstream_transport: Any = None, services: Services | None = None) -> Litestar:
    prepare_process()
    settings = settings or Settings()
    services = services or build_services(settings, upstream_transport=upstream_transport)

    async def on_startup(app: Litestar) -> None:
        await services.start()

    async def on_shutdown(app: Litestar) -> None:
        await services.stop()

    # the drain is read by /readyz and by the ASGI wrapper `bedside serve` runs the app in (proxy/api/drain.py)
    state = State({"services": services, "catalogue": ModelCatalogue(), "readiness": ReadinessCache(), "drain": Drain()})
    if services.privacy is not None:
        state["privacy"] = privacy.PrivacyAPI(
            services.keyring,
            services.privacy.ledger,
            services.privacy.memories,
            services.privacy.transcripts,
            audit=services.audit,
            on_failure=settings.audit.privacy_on_failure,
            metrics=services.metrics,
        )
        state["transcripts"] = transcripts.TranscriptsAPI.build(services.keyring, services.privacy)
    if services.rights is not None:
        state["rights"] = rights.RightsAPI(services.keyring, services.rights)
    return Litestar(
        route_handlers=[
            *audit.ROUTES,
            *privacy.ROUTES,
            *rights.ROUTES,
            *transcripts.ROUTES,
            *responses_routes.RESPONSES_ROUTES,
            *feedback.ROUTES,
            *kpis.ROUTES,
            *console.ROUTES,
            *openai_routes.ROUTES,
            *health.ROUTES,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=state,
        openapi_config=None,
        request_max_body_size=None,
        debug=False,
        logging_config=None,
    )
