"""CS rules: pure functions over AccountFacts, configured by one YAML file."""

from jobs.rules.config import RulesConfig, RulesConfigError, load_rules
from jobs.rules.rules import assess

__all__ = ["RulesConfig", "RulesConfigError", "assess", "load_rules"]
