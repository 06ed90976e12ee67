"""The security probe's parts: ``harness`` (fake upstream, Bedside processes, outcomes) and
``cases`` (the attacker's inputs, one function per category). Entry point: ``bench/security_probe.py``."""
