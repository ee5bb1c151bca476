"""Helpers shared by the tests: factories of test data, processes, media and recordings."""
