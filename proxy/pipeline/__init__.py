"""The request contract: ``RequestContext``, ``Stage`` and ``Pipeline``, ``Completion`` and its typed
deltas, SSE encoding and decoding, ``collect()`` and the hold-back window.

Stages are written against this package; it imports none of them (see docs/architecture.md).
"""
