"""What only the command line reaches: check-config and its online checks, doctor, preview,
setup (webhook registration, the Jira fields) and the demo.

The service (``serve``/``worker``) never imports from here; these modules may use any other
package, and nothing outside ``cli`` imports them.
"""
