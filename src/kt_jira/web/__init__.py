"""The HTTP surface: webhook intake, health, metrics, the dashboard and the admin API. Built by
``create_app``."""

from kt_jira.web.app import create_app

__all__ = ["create_app"]
