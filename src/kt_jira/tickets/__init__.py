"""Tickets: what an escalation becomes in Jira.

Pure rules, draft, matching, templates and SLA arithmetic; the create handler is the one I/O
module.
"""
