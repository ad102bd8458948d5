"""Registers the templates task with jiema (filled in by its issue)."""
