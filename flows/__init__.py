"""Prefect flows and tasks, and the one HTTP client."""
