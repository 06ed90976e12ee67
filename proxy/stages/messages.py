"""Message helpers for stages; they live in :mod:`proxy.rails.messages` (below the stages, so the
rails and checks can use them without importing a stage). Re-exported here for the stages."""

from __future__ import annotations

from proxy.rails.messages import last_user_index, leading_system_end, text_of, user_texts

__all__ = ["last_user_index", "leading_system_end", "text_of", "user_texts"]
