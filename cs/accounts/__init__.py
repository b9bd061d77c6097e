"""Customer data: models, import (CSV and ingest API), facts for the rules, demo seed."""
