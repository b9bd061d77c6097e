"""Imports the customer-data and alert models so Base.metadata sees their tables."""

import jobs.accounts.models
import jobs.alerts.models  # noqa: F401
