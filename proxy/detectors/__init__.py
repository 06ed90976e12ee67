"""Detectors: CPU-bound judges of text (emotion, PII, jailbreak, crisis).

Detectors are plain synchronous objects built once at start-up. They know nothing about HTTP or
the pipeline; stages in ``proxy.stages`` call them (off the event loop where they are slow).
"""
