"""storywatch: follow one news story across feeds and record its coverage in DuckDB."""
