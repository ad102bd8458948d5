"""jiema ocr plugin."""
