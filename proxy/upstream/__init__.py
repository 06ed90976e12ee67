"""Talking to OpenAI-compatible model servers.

``transport``: the small HTTP interface (:class:`HttpTransport`) with two implementations,
``aiohttp_transport`` (default: fastest, pooled keep-alive) and ``httpx_transport`` (for respx-based
tests, HTTP proxies and HTTP/2). ``openai``: the OpenAI protocol on top of either (URLs, auth,
SSE, error mapping, timeouts). ``router``: which upstream serves a model name.
"""
