"""Where a pack's files are, known without reading them (and without GeoPandas): the file of
each layer, and where the built-in packs are cached."""

from __future__ import annotations

import os
from pathlib import Path

from geo.contract import LAYERS
from geo.errors import Problem

__all__ = ["GENERATOR_VERSION", "LAYER_SUFFIXES", "SAMPLE_CITY", "builtin_cache_path",
           "cache_dir", "find_layers"]

LAYER_SUFFIXES = (".parquet", ".geoparquet", ".gpkg", ".geojson", ".json", ".shp")
GENERATOR_VERSION = 2

#: The default: about 150 communities on 12 x 10 km with 350,000 adults.
SAMPLE_CITY = {"communities": 150, "adults": 350_000, "seed": 2026}


def cache_dir() -> Path:
    """Where generated packs are kept: ``$SITESIM_CACHE_DIR``, else ``data/cache`` of a
    source checkout, else ``~/.cache/sitesim``."""
    env = os.environ.get("SITESIM_CACHE_DIR")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir() and os.access(checkout, os.W_OK):
        return checkout / "cache"
    return Path.home() / ".cache" / "sitesim"


def builtin_cache_path(name: str) -> Path:
    """The folder the built-in area ``name`` is (or will be) generated into."""
    spec = SAMPLE_CITY
    return cache_dir() / (f"{name}-v{GENERATOR_VERSION}-"
                          f"{spec['communities']}-{spec['adults']}-{spec['seed']}")


def find_layers(root: Path, problems: list[Problem]) -> dict[str, tuple[Path, str | None]]:
    """Where each layer lives: a file per layer in a folder, or layers of one GeoPackage."""
    found: dict[str, tuple[Path, str | None]] = {}
    if root.is_file():
        if root.suffix.lower() != ".gpkg":
            problems.append(Problem("error", str(root), "a pack is a folder or a GeoPackage",
                                    "point to the pack folder or its .gpkg file"))
            return found
        import pyogrio  # only for a GeoPackage

        names = {n for n, _ in pyogrio.list_layers(root)}
        for layer in LAYERS:
            if layer in names:
                found[layer] = (root, layer)
        return found
    gpkgs = sorted(root.glob("*.gpkg"))
    for layer in LAYERS:
        files = [root / f"{layer}{s}" for s in LAYER_SUFFIXES if (root / f"{layer}{s}").exists()]
        if len(files) > 1:
            problems.append(Problem(
                "error", f"{root}: layer '{layer}'",
                f"found in several files ({', '.join(f.name for f in files)})",
                "keep one file per layer"))
        if files:
            found[layer] = (files[0], None)
            continue
        for g in gpkgs:
            import pyogrio

            if layer in {n for n, _ in pyogrio.list_layers(g)}:
                found[layer] = (g, layer)
                break
    return found
