"""The API tests' fixtures (an app wired to a real listening fake upstream), shared here."""

from tests.api.conftest import client, fake, settings_for

__all__ = ["client", "fake", "settings_for"]
