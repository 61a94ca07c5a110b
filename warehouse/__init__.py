"""DuckDB: schema migrations, writes, and the reporting views (the only place with SQL)."""
