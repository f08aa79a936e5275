"""A stateful, strict Jira (Cloud REST v3 or Data Center REST v2) on Starlette.

``app`` builds the site, ``state`` holds it, ``routes``/``views`` answer requests after
``validate`` checks them the way Jira does. Used by the demo, tests and benchmarks only; the
bridge's own code never imports it.
"""
