"""The Responses API (``POST /v1/responses``) mapped onto the one pipeline, as a library.

Bedside has one pipeline, whose request is a chat-completions body and whose reply is a stream of
typed deltas. A Responses request is mapped onto that shape at the edge and back again on the way
out, so no stage knows which API a request came in on:

* :mod:`proxy.responses.request`: a Responses request -> the pipeline's request (instructions and
  input items become messages, function tools and ``text.format`` their chat forms) and, after the
  stages, -> a Responses request again for an upstream that serves the Responses API;
* :mod:`proxy.responses.translate`: the pipeline's request -> a chat completions request for an
  upstream that serves only those (and the limits of that translation);
* :mod:`proxy.responses.decode`: an upstream's Responses reply (JSON or typed SSE events) -> deltas;
* :mod:`proxy.responses.encode`: deltas -> the Responses object and its typed SSE events;
* :mod:`proxy.responses.ids`: response and item ids.

Who calls it: the routes (``proxy.api.responses_routes``), the upstream clients (passthrough and
translate) and the demo model. Never a stage (an import contract in ``pyproject.toml`` says so).
"""
