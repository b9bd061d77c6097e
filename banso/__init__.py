"""Banso: customer-success chat-ops for Slack."""

__version__ = "0.1.0"
