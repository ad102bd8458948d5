"""Registers the segment task with jiema (filled in by its issue)."""
