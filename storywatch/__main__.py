"""`python -m storywatch`: the same command as `storywatch`."""

from storywatch.cli import entry

entry()
