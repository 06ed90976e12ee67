"""The offline demo upstream: deterministic replies that say they come from a demo.

Used when no upstream is configured (``bedside serve`` answers from it in-process), and served on
its own by ``bedside demo-upstream`` as an OpenAI-compatible server (the fake upstream of the
end-to-end tests and benchmarks).
"""
