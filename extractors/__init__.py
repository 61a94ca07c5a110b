"""Bytes in, our records out: story folders, feed parsing, feed lists and article extraction (no network).

This folder sits at the top of the repository but is imported only as `storywatch.extractors`
(setuptools `package-dir`): a bare `extractors` would collide with a user's own folders."""

if __name__ != "storywatch.extractors":
    raise ImportError(f"import storywatch.extractors, not {__name__}")
