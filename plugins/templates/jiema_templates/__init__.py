"""jiema templates plugin."""
