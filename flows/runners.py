"""Where a pass's tasks run: Prefect's thread pool in the flow's own process (the default), or a
Dask cluster (prefect-dask) that spreads feed polling, page fetching and extraction over worker
processes or machines. The warehouse stays single-writer either way: tasks return plain records
and only the flow, in its own process, writes DuckDB."""

from __future__ import annotations

from prefect.task_runners import TaskRunner

from storywatch.flows.extraction import usable_cores
from storywatch.errors import ConfigError

CHOICES = "threads | dask | dask://HOST:PORT (or tcp://HOST:PORT) of a running Dask scheduler"


def task_runner(spec: str) -> TaskRunner | None:
    """The task runner `spec` names (None: the flow's default thread pool). `dask` starts a
    temporary local cluster of worker processes, one per core; an address joins a running one."""
    spec = spec.strip()
    if spec in ("", "threads"):
        return None
    if spec != "dask" and not spec.startswith(("dask://", "tcp://", "tls://")):
        raise ConfigError(f"--task-runner {spec!r}: expected {CHOICES}")
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError("--task-runner dask needs prefect-dask: pip install 'storywatch[dask]'") from None
    if spec == "dask":
        return DaskTaskRunner(cluster_kwargs={"n_workers": usable_cores(), "threads_per_worker": 4, "processes": True,
                                              "dashboard_address": None})
    return DaskTaskRunner(address=spec.replace("dask://", "tcp://", 1))
