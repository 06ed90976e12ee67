"""Thin HTTP handlers: OpenAI routes, health and metrics. The work happens in the pipeline."""
