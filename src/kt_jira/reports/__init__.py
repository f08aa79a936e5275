"""Reports: what ``kt-jira report``, ``kt-jira jql`` and the dashboard show.

``aggregate`` (pure: the store's rows, the config's names and ``now`` in, a ``Report`` out) and
``jql`` (pure: the query pack) never import the store, the web app or a client; ``load`` is the
one I/O module, reading the rows a report needs from the store.
"""
