"""Reconcile: compare Keeptrusts, the bridge's database and Jira, and repair what webhooks missed.

``plan`` and ``report`` are pure (values in, a plan out); ``reconciler`` gathers the views and runs
the plan, ``apply`` writes it with its jobs, ``fold`` closes duplicate tickets, ``view`` draws a
run in the terminal. Repairs go through the same jobs as webhooks, never around them.
"""
