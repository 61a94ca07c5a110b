"""storywatch: follow one news story across feeds and record its coverage in DuckDB."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("storywatch")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
