"""Medallion's Dagster code location: `dagster dev -m dagster_pipeline`."""

from dagster_pipeline.definitions import defs

__all__ = ["defs"]
