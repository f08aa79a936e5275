"""kt-jira: Keeptrusts AI-gateway escalations to Jira and back, exactly once."""

__version__ = "0.1.0"
