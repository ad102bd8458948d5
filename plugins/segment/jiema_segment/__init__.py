"""jiema segment plugin."""
