"""Building the privacy services from settings (``proxy.services`` calls it once at start-up).

``build_privacy`` touches no network and no event loop: it reads the KEK and subject key (creating
the embedded defaults in ``data_dir`` on first use) and builds the repository, envelope and consent
ledger, memory store and transcript writer (the app hands them to the privacy routes). ``check_keks`` is the start-up check: every live data
key must be wrapped by a KEK this Bedside holds, otherwise users' data would be unreadable and the
operator must hear about it before a request does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import EnvKeyProvider, FileKeyProvider, KeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.consent import BUILTIN, ConsentLedger, Notice
from proxy.privacy.memory import MemoryStore
from proxy.privacy.transcripts import TranscriptWriter
from proxy.secrets_store import load_or_create_key
from proxy.settings import Settings
from proxy.storage.repositories import DataKeyMaintenance, PrivacyRepository
from proxy.storage.transcripts import TranscriptRepository

KEK_FILE = "kek.key"
SUBJECT_KEY_FILE = "privacy-subject.key"


@dataclass(frozen=True, slots=True)
class Privacy:
    repo: PrivacyRepository
    keys: KeyProvider
    subjects: SubjectKey
    envelope: Envelope
    ledger: ConsentLedger
    memories: MemoryStore
    #: the one transcript writer: the transcripts stage records with it, the privacy API erases with it
    transcripts: TranscriptWriter


def kek_configured(settings: Settings) -> bool:
    """Whether the operator named where the KEKs live (``privacy.kek_env`` or ``privacy.kek_file``).

    Without either, :func:`key_provider` keeps one in ``data_dir/kek.key`` beside the database: fine
    for the quick start and tests, not for production, so ``bedside serve`` refuses to start that way
    unless told it is the quick start (``--quickstart`` or ``BEDSIDE_QUICKSTART=1``)."""
    p = settings.privacy
    return bool(p.kek_env) or p.kek_file is not None


def embedded_kek_path(settings: Settings) -> Path:
    """Where the quick start keeps its KEK."""
    return settings.data_dir / KEK_FILE


def key_provider(settings: Settings) -> KeyProvider:
    p = settings.privacy
    if p.kek_env:
        return EnvKeyProvider(p.kek_env)
    if p.kek_file is not None:
        return FileKeyProvider(p.kek_file)
    return FileKeyProvider.load_or_create(embedded_kek_path(settings))


def subject_key(settings: Settings) -> SubjectKey:
    path = settings.privacy.subject_key_file
    if path is not None:
        return SubjectKey(bytes.fromhex(path.read_text().strip()))
    return SubjectKey(load_or_create_key(settings.data_dir, SUBJECT_KEY_FILE))


def notice(settings: Settings) -> Notice:
    p = settings.privacy
    if p.notice_file is None:
        return BUILTIN
    return Notice(p.notice_version or "", p.notice_file.read_text(encoding="utf-8"))


def build_privacy(settings: Settings, engine: Engine) -> Privacy:
    repo = PrivacyRepository(engine, max_threads=settings.privacy.db_threads)
    keys = key_provider(settings)
    subjects = subject_key(settings)
    ledger = ConsentLedger(repo, subjects, notice(settings))
    envelope = Envelope(repo, keys)
    writer = TranscriptWriter(TranscriptRepository(engine), envelope, subjects)
    return Privacy(repo, keys, subjects, envelope, ledger, MemoryStore(repo, envelope, subjects), writer)


def missing_keks(engine: Engine, keys: KeyProvider) -> dict[str, int]:
    """KEK ids that wrap live data keys but that ``keys`` does not hold, with how many keys each (empty: all fine)."""
    held = keys.kek_ids()
    return {kek: n for kek, n in DataKeyMaintenance(engine).count_by_kek().items() if kek not in held}
