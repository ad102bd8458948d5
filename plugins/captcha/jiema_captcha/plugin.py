"""Registers the captcha task with jiema (filled in by its issue)."""
