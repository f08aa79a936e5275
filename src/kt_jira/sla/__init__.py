"""SLA tracking on any Jira: the periodic breach scan and the actions it starts.

The clocks themselves are pure and live in ``tickets.sla_clock`` (with ``tickets.calendar`` and
``tickets.sla_signals``); ``plan`` decides what a scan does from them; ``scan`` (the I/O: the
store, under one advisory lock) and ``actions`` (the ``sla_action`` and ``sla_notify`` jobs)
carry it out. ``notify`` decides what a notification says and which channels get it (pure);
``notifier`` runs the ``sla_notify`` job (the signed webhook, Slack). Nothing here is imported
by ``tickets``, ``sync`` or ``reconcile``.
"""
