"""The ``sitesim area`` commands: generate, check and import study area packs."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scenarios._cli_progress import _progress
from scenarios._console import EXIT_BAD_INPUT, console, err, guarded


def _print_summary(summary: dict[str, object]) -> None:
    table = Table(title=f"Study area: {summary['name']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in summary.items():
        if key == "name":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}"
                              for k, v in value.items())
        elif isinstance(value, int):
            value = f"{value:,}"
        elif isinstance(value, tuple):
            value = " to ".join(f"{v:,.0f}" for v in value)
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


@guarded
def area_synth(
    out: Annotated[Path, typer.Option("--out", help="Pack folder to write.")],
    communities: Annotated[int, typer.Option(help="Number of communities.")] = 150,
    adults: Annotated[int, typer.Option(help="Adults in total.")] = 350_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    name: Annotated[str | None, typer.Option(help="Area name (default from size and seed).")]
    = None,
    history_weeks: Annotated[int, typer.Option(
        help="Also write a bank's history and observations of this many weeks from a "
             "known truth (not sitesim's model) into the pack's bank/ folder, to try "
             "calibrate and pilots on (docs/calibration.md); 0: none.", min=0, max=520)] = 0,
) -> None:
    """Generate a synthetic study area pack of any size (the defaults make the sample
    city)."""
    from geo.synth import synthesize_area

    start = time.perf_counter()
    path = synthesize_area(out, communities=communities, adults=adults, seed=seed, name=name,
                           progress=_progress)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"wrote {path} ({communities:,} communities, {adults:,} adults) in "
                  f"{time.perf_counter() - start:.1f} s, peak memory {peak_mb:,.0f} MB")
    if history_weeks:
        from geo import load_area
        from scenarios.synthetic_history import write_synthetic_history

        adults_by = load_area(path).adults
        files = write_synthetic_history(Path(path) / "bank", adults_by.index,
                                        adults_by.to_numpy(float), weeks=history_weeks,
                                        seed=seed)
        console.print(f"wrote a bank's {history_weeks} weeks from a known truth: "
                      + ", ".join(str(p) for p in files.values()), soft_wrap=True)


@guarded
def area_check(
    area: Annotated[str, typer.Argument(help="Pack folder, .gpkg, or builtin:sample-city.")],
    summary: Annotated[bool, typer.Option(help="Print the summary when it passes.")] = True,
    repair: Annotated[Path | None, typer.Option(
        "--repair", help="Write a copy of the pack to this new folder with every invalid "
        "polygon repaired by make_valid, and check the copy.")] = None,
) -> None:
    """Validate a pack; print every problem; exit 2 if any is an error."""
    from geo import inspect_area, repair_area

    if repair is not None:
        for line in repair_area(area, repair):
            console.print(f"repaired {line}")
        console.print(f"wrote {repair}")
        area = str(repair)
    study, problems = inspect_area(area, _progress)
    for p in problems:
        err.print(p.line(), markup=False, highlight=False, soft_wrap=True)
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        err.print(f"{errors} error(s), {len(problems) - errors} warning(s)")
        raise typer.Exit(EXIT_BAD_INPUT)
    if summary and study is not None:
        _print_summary(study.summary())
    console.print(f"ok: no errors, {len(problems)} warning(s)")


@guarded
def area_import(
    mapping: Annotated[Path, typer.Option("--mapping", help="Mapping TOML (docs/import.md).")],
    out: Annotated[Path, typer.Option("--out", help="Pack folder to write.")],
    source: Annotated[Path | None, typer.Option(
        "--source", help="Folder of the mapped files (default: the mapping's source_dir).")]
    = None,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Repair every invalid polygon with make_valid, whatever it does to "
        "the area (each change is printed).")] = False,
) -> None:
    """Build a pack from your own files through a mapping."""
    import warnings

    from geo import load_area
    from geo.importer import import_area

    path = import_area(mapping, out, source_dir=source, progress=_progress, repair=repair)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_area(path)
    summary = study.summary()
    _print_summary(summary)
    for p in study.warnings:
        err.print(p.line(), markup=False, highlight=False, soft_wrap=True)
    from geo import off_network_note

    note = off_network_note(study, summary.get("communities_off_network", 0))
    if note and study.network_file is not None:  # without one, the warning above says it
        console.print(f"note: {note}")
    console.print(f"wrote {path}")
