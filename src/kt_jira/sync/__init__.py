"""Two-way status sync between Jira and Keeptrusts.

``decisions`` and ``text`` are pure (which side wins, loop guard, mapping, next hop; the comments
the bridge leaves). ``inbound`` handles Jira -> Keeptrusts, ``outbound`` Keeptrusts -> Jira; both
are job handlers and the only modules here that do I/O.
"""
