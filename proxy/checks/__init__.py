"""Checks: one small module per rail check, and the engines that run them.

Each check module exposes ``compile(rule, policy) -> Check | None`` (:mod:`proxy.checks.base`);
:mod:`proxy.checks.registry` maps a check's name (the ``check:`` of a policy's ``rails.input`` /
``rails.output`` entry) to its module, one line per check. A new check is one file here and one
registry line (and its name in the policy schema).

The engines: :mod:`proxy.checks.input_rails` (which texts of a request the input checks read, and
running them; :mod:`proxy.checks.input_memo` remembers their verdicts per tenant, user and policy
version), :mod:`proxy.checks.output_rails` (a policy's output checks compiled) and
:mod:`proxy.checks.output_scan` (one reply scanned in the hold-back window). The stages
(:mod:`proxy.stages.input_rails`, :mod:`proxy.stages.output_rails`) call the engines.

Layering: checks import the pipeline, policy, detectors and :mod:`proxy.rails`; never a stage.
Importing any module here changes nothing: the guardrails-ai validators are imported inside
``compile``, after :func:`proxy.rails.guardrails_setup.prepare_rails`.
"""
