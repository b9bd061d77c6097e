"""Community signals: Slack members linked to contacts, their questions as account activity."""
