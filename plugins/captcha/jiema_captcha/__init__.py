"""jiema captcha plugin."""
