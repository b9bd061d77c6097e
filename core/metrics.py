"""Prometheus metrics, defined once here and updated where the event happens."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "banso_http_requests_total", "HTTP requests by route and status.",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "banso_http_request_seconds", "HTTP request latency by route.", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=REGISTRY,
)
ANSWERS = Counter(
    "banso_answers_total", "Questions answered, by surface and decision.",
    ["surface", "decision"], registry=REGISTRY,
)
FEEDBACK = Counter(
    "banso_feedback_total", "Helpful / not-helpful clicks.", ["surface", "helpful"],
    registry=REGISTRY,
)
DATABASE_UNAVAILABLE = Counter(
    "banso_database_unavailable_total",
    "Requests and Slack questions that met an unreachable database (answered 503 or held), "
    "by surface.", ["surface"], registry=REGISTRY,
)
QUESTIONS_HELD = Gauge(
    "banso_questions_held", "Slack questions waiting in memory for the database to return.",
    registry=REGISTRY,
)
ESCALATIONS = Counter("banso_escalations_total", "'Ask a human' escalations.", registry=REGISTRY)
ALERTS_POSTED = Counter(
    "banso_alerts_posted_total", "Alerts delivered to Slack (or logged), by kind.", ["kind"],
    registry=REGISTRY,
)
ALERTS_RECOVERED = Counter(
    "banso_alert_posts_recovered_total",
    "Alert messages found already in Slack after an ambiguous failure or a crash, so recorded "
    "instead of posted again (each one a duplicate avoided), by outbox op.", ["op"],
    registry=REGISTRY,
)
ALERT_ACTIONS = Counter(
    "banso_alert_actions_total", "Actions taken on alerts, by kind and action.",
    ["kind", "action"], registry=REGISTRY,
)
JOB_RUNS = Counter(
    "banso_job_runs_total", "Scheduled job runs by job and outcome.", ["job", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "banso_job_seconds", "Scheduled job duration.", ["job"], registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900),
)
INDEX_ENTRIES = Gauge(
    "banso_index_entries", "Knowledge entries in the live index.", ["visibility"],
    registry=REGISTRY,
)
INDEX_BUILT_AT = Gauge(
    "banso_index_built_timestamp_seconds", "Unix time the live index was built.",
    registry=REGISTRY,
)
KNOWLEDGE_ERRORS = Gauge(
    "banso_knowledge_file_errors", "Knowledge files skipped because they are broken.",
    registry=REGISTRY,
)
INDEX_AGE = Gauge(
    "banso_index_age_seconds", "Seconds since the live index was built (set at scrape time).",
    registry=REGISTRY,
)
QUERY_CACHE = Counter(
    "banso_query_cache_total", "Query embeddings served from the cache (hit) or computed (miss).",
    ["result"], registry=REGISTRY,
)
QUERY_BUSY = Counter(
    "banso_query_busy_total", "Questions refused because the embedder's queue was full.",
    registry=REGISTRY,
)


def observe_query(event: str) -> None:
    """The retrieval pool's events ("hit", "miss", "busy") as the two counters above."""
    if event == "busy":
        QUERY_BUSY.inc()
    else:
        QUERY_CACHE.labels(event).inc()
