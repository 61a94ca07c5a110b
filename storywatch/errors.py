"""Named errors; the CLI turns each into one line naming the file or URL and the cause."""


class StorywatchError(Exception):
    """Base of the errors that stop a pass before it starts (not per-feed or per-page failures)."""


class ConfigError(StorywatchError):
    """A story folder, story.toml or feeds file that cannot be used."""


class WarehouseError(StorywatchError):
    """The DuckDB file cannot be opened for writing (locked, read-only, corrupt, disk full)."""


class ExtractionError(StorywatchError):
    """The extraction worker processes cannot start: nothing this pass fetches can be extracted,
    so the pass fails (and saves nothing) instead of filing every page as a failed fetch."""


class UnknownArticleError(StorywatchError):
    """A URL given to `label` or `explain` that the warehouse holds no article of, for the story."""
