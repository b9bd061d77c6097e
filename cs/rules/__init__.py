"""CS rules: pure functions over AccountFacts, configured by core.rules_config.RulesConfig."""
