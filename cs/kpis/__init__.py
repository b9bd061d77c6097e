"""CS KPIs (formulas over plain data), `banso report`, GET /api/metrics/cs, weekly digests and
the App Home view. Formulas are documented in docs/metrics.md."""
