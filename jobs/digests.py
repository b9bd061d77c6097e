"""The weekly digests as scheduled jobs: build one (cs.kpis.digest) and post it to its channel.

Both run at settings.digest_cron; like every job, a run first renews the leader lease and skips
unless this replica holds it, so one replica sends each digest once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.services import Services
from cs.kpis.digest import (
    DigestResult,
    build_cs_digest,
    build_curation_digest,
    post_digest,
)

log = logging.getLogger(__name__)


def send_cs_digest(services: Services, now: datetime) -> DigestResult:
    """The weekly CS digest to settings.csm_channel."""
    channel = services.settings.csm_channel
    if services.slack is None or channel is None:
        return _skipped("cs digest", "Slack or BANSO_CSM_CHANNEL not configured")
    return post_digest(services.slack, channel, build_cs_digest(services, now))


def send_curation_digest(services: Services, now: datetime) -> DigestResult:
    """The weekly curation digest to settings.curator_channel."""
    channel = services.settings.curator_channel
    if services.slack is None or channel is None:
        return _skipped("curation digest", "Slack or BANSO_CURATOR_CHANNEL not configured")
    return post_digest(services.slack, channel, build_curation_digest(services, now))


def _skipped(job: str, reason: str) -> DigestResult:
    log.info("%s skipped: %s", job, reason)
    return DigestResult(False, reason=reason)
