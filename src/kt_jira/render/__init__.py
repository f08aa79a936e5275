"""Pure rendering: a small document tree (``nodes``) to Jira's ADF (Cloud) or wiki markup (DC)."""
