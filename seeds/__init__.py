"""The seed stories that ship with storywatch, one folder each (package data).

This folder sits at the top of the repository but is imported only as `storywatch.seeds`
(setuptools `package-dir`): a bare `seeds` would collide with a user's own folders."""

if __name__ != "storywatch.seeds":
    raise ImportError(f"import storywatch.seeds, not {__name__}")
