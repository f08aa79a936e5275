"""The false-positive feedback loop: a policy whose tickets keep being resolved as false positives
gets one "Policy improvement" Story in Jira, linked to those tickets.

Pure: ``plan`` (when a policy's Story opens, what joins it, its draft, summary and bodies).
``loop`` is the I/O: the scan that carries a plan out through the store, and the two job handlers
that create the Story exactly once and link its tickets; ``jira_links`` reads the link type and a
Story's links. ``plan`` never imports the store, a client, the web app or the worker; nothing
here imports ``sla``, ``sync``, ``reconcile``, the CLI or the sandbox.
"""
