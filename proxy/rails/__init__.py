"""Rails: Bedside's guardrails-ai glue, below the checks (:mod:`proxy.checks`) and the stages.

* :mod:`proxy.rails.guardrails_setup`: :func:`~proxy.rails.guardrails_setup.prepare_rails`, the one
  idempotent start-up step that makes guardrails-ai offline;
* :mod:`proxy.rails.validators` and :mod:`proxy.rails.output_validators`: the ``bedside/...``
  guardrails-ai validators (the only modules here that import guardrails-ai);
* :mod:`proxy.rails.run`: run validators over a text (directly, or through a ``Guard``);
* :mod:`proxy.rails.handoff`: the human-handoff webhook; :mod:`proxy.rails.metrics`: the rails'
  counters; :mod:`proxy.rails.messages`, :mod:`proxy.rails.text`, :mod:`proxy.rails.language`,
  :mod:`proxy.rails.patterns`: pure helpers.

Importing this package (or any of its modules) changes nothing: no environment variable, no
guardrails setting. Nothing is re-exported here, so importing it imports nothing else.
"""
