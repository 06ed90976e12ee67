"""Conversation outcomes: the facts each conversation keeps (no text, no PII), their writer, the KPIs
computed from them, the live board the console shows, and the HTML report (see docs/kpis.md)."""
