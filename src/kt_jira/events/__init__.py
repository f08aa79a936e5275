"""Pure: webhook bodies from Keeptrusts (``keeptrusts``) and Jira (``jira``) -> typed events.

Bytes in, frozen values out. Never imports the store, a client, the web app or the worker, and
never reads the clock.
"""
