"""Prefect flows and tasks, and the one HTTP client.

This folder sits at the top of the repository but is imported only as `storywatch.flows`
(setuptools `package-dir`): a bare `flows` would collide with a user's own folders."""

if __name__ != "storywatch.flows":
    raise ImportError(f"import storywatch.flows, not {__name__}")
