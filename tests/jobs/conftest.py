"""Fixtures every test under tests/jobs may ask for by name (defined in alerts_support)."""

from tests.jobs.alerts_support import alert_settings, clock, slack_app

__all__ = ["alert_settings", "clock", "slack_app"]
