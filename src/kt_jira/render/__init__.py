"""Pure rendering: template Markdown to a small document tree (``nodes``), and the tree to
Jira's ADF (Cloud) or wiki markup (DC).

``markdown`` parses a template's Markdown subset with markdown-it (``markdown_rules`` adds the
panel rule and the nesting bound, ``markdown_inline`` reads inline tokens); ``tokens`` keeps
escalation values out of that parse and puts them back as text; ``truncate`` fits a tree to
Jira's length limit; ``adf`` and ``wiki`` render it and ``sanitise`` makes payload text inert.
Nothing here does I/O: no files, network, database, clock or environment.
"""
