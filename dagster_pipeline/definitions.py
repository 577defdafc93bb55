"""The Definitions object. Assets, resources, sensors and schedules are added as they land."""

import dagster as dg

defs = dg.Definitions(assets=[])
