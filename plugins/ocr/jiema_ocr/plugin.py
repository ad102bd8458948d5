"""Registers the ocr task with jiema (filled in by its issue)."""
