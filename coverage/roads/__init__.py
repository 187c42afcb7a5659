"""The OSRM road engine: build a routing dataset from an OpenStreetMap extract, check it, load it.

Takes plain frames (communes as ``insee``/``dep``/``lon``/``lat``); imports nothing from
``data``. One module per concern: ``tools`` (the OSRM binaries and a measured run),
``extract`` (the extract's checksum and date), ``dataset`` (folders, manifest, the active
dataset), ``engine`` (the bindings in this process), ``check`` (does an extract cover the
region) and ``build`` (the build stages).
"""

from coverage.roads.build import STAGES, BuildEvent, ToolOptions, build_dataset
from coverage.roads.check import (
    COVERED_SHARE,
    COVERED_SNAP_M,
    README_SECTION,
    coverage_by_departement,
    name_departements,
)
from coverage.roads.dataset import (
    ALGORITHM,
    BASE_NAME,
    DATASET_ENV,
    MANIFEST_NAME,
    REQUIRED_SUFFIXES,
    URL_ENV,
    Dataset,
    active_dataset,
    datasets_root,
    open_dataset,
    set_active,
)
from coverage.roads.engine import load_engine, snap_distances
from coverage.roads.extract import UNKNOWN_DATE, extract_date, extract_header, sha256_file
from coverage.roads.tools import car_profile, osrm_version, tool_path

__all__ = [
    "ALGORITHM",
    "BASE_NAME",
    "COVERED_SHARE",
    "COVERED_SNAP_M",
    "DATASET_ENV",
    "MANIFEST_NAME",
    "README_SECTION",
    "REQUIRED_SUFFIXES",
    "STAGES",
    "UNKNOWN_DATE",
    "URL_ENV",
    "BuildEvent",
    "Dataset",
    "ToolOptions",
    "active_dataset",
    "build_dataset",
    "car_profile",
    "coverage_by_departement",
    "datasets_root",
    "extract_date",
    "extract_header",
    "load_engine",
    "name_departements",
    "open_dataset",
    "osrm_version",
    "set_active",
    "sha256_file",
    "snap_distances",
    "tool_path",
]
