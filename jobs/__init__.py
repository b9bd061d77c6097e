"""CS rules, customer data and scheduled alert jobs."""
