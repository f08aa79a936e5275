"""Public test helpers shared by unit, integration and contract tests."""
