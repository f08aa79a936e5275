"""A stateful Keeptrusts control-plane API on Starlette, with payload builders for deliveries.

Used by the demo, tests and benchmarks only; the bridge's own code never imports it.
"""
