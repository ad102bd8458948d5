"""`python -m jiema` runs the CLI."""

from jiema.cli import main

main()
