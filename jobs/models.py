"""Imports the customer-data and alert models so Base.metadata sees their tables."""

import jobs.accounts.models  # noqa: F401
import jobs.alerts.models  # noqa: F401
