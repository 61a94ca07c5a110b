"""DuckDB: schema migrations, writes, and the reporting views (the only place with SQL).

This folder sits at the top of the repository but is imported only as `storywatch.warehouse`
(setuptools `package-dir`): a bare `warehouse` would collide with a user's own folders."""

if __name__ != "storywatch.warehouse":
    raise ImportError(f"import storywatch.warehouse, not {__name__}")
