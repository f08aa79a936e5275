"""Tickets: what an escalation becomes in Jira.

Pure: ``rules`` (escalation -> draft), ``draft``, ``matching``, ``templates``, ``sla`` (durations,
deadlines), ``calendar`` (business hours) and ``sla_clock`` (SLA state from signals). ``create``
is the one I/O module: the job handler that creates the issue exactly once. The pure modules never
import the store, a client, the web app or the worker.
"""
