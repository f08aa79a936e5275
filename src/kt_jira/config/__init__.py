"""The configuration tree: pydantic models, the YAML loader, the content rules and secret
references.

Loaded once at the edge (``cli``) and passed down. It reads files and the environment only while
loading or resolving a secret reference (and asks AWS SSM only for an ``ssm:`` one, in
``config.ssm``); it never talks to Jira, Keeptrusts or the database.
"""
