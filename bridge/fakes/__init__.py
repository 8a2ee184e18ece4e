"""Fake hosted services on real loopback HTTP, for tests and offline demos.

They follow the real wire protocols in reference/remote-apis.md, faults included, so the
engines' code runs unchanged against them (``inpaint-bridge fake-server``).
"""
