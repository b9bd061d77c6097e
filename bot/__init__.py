"""Slack app: answers questions and handles alert actions."""
