"""The command line: parse options, call the core, map outcomes to exit codes in one place."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Iterator, NoReturn, Optional

from typing import TYPE_CHECKING

import typer

from generator.launcher import err as _err
from generator.launcher import out as _out
from generator.launcher import stamped as _stamped
from generator.problems import FleetError, Location, Problem, format_problems
from generator.review.classes import RISK_CLASSES

# The stages are imported inside the commands that use them, so `fleetgen --help` and shell
# completion start in a fraction of a second.
if TYPE_CHECKING:
    from generator.pipeline import Progress as RenderProgress

EXIT_OK, EXIT_CHANGES, EXIT_INVALID, EXIT_INTERNAL, EXIT_POLICY, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

app = typer.Typer(add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  help="Render TKG / Cluster API cluster inventories into GitOps manifests.")

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@contextmanager
def progress_bar(what: str, quiet: bool) -> Iterator[RenderProgress | None]:
    """A progress bar on stderr when it is a terminal (never in CI logs or pipes, never with
    --quiet); the callback takes (done, total)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


RootOption = Annotated[Path, typer.Option("--root", help="The fleet repository (holds clusters/).",
                                          file_okay=False)]


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def run(action: Callable[[], int], fmt: str = "text") -> NoReturn:
    """Run a command body; every failure becomes its exit code here and nowhere else."""
    try:
        code = action()
    except FleetError as exc:
        if fmt == "text":
            _err(format_problems(exc.problems, fmt))
            errors = sum(1 for p in exc.problems if p.severity == "error")
            outcome = ("rendered/ is partly updated (each file whole, old or new); render "
                       "again to finish" if exc.partial else "nothing was written")
            _err(f"{errors} error{'s' if errors != 1 else ''}; {outcome}")
        else:
            _out(format_problems(exc.problems, fmt))
        code = EXIT_INVALID
    except KeyboardInterrupt:
        _err("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 3
        from generator.problems import printable
        from generator.secrets import scrub

        _err(f"An unexpected error has occurred: {type(exc).__name__}: {printable(scrub(str(exc)))}\n"
             "This is a bug in fleetgen; please report it with the command you ran.")
        code = EXIT_INTERNAL
    raise typer.Exit(code)


@app.command()
def render(
    root: RootOption = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if rendered/ is "
                                        "stale.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite generated files edited by "
                                        "hand.")] = False,
    select: Annotated[Optional[list[str]], typer.Option(
        "--select", help="Only these clusters: name, mgmt/ns/name, file path (globs allowed) or "
        "label:KEY=VALUE; repeatable.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1,
                                      help="Render in N processes (same output).")] = 1,
    quiet: QuietOption = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Render every cluster again "
                                           "instead of reusing the render cache.")] = False,
) -> None:
    """Render the fleet into rendered/.

    Example: fleetgen render --check
    """
    def body() -> int:
        stamps, inputs = None, None
        if not (select or force or no_cache):
            from generator.cache.stamp import Stamps
            stamps = Stamps()
            answered, inputs = _stamped(stamps, root, check)
            if answered:
                return EXIT_OK
        from generator import pipeline

        with progress_bar("rendering", quiet) as progress:
            result = pipeline.render(root, check=check, force=force, patterns=select, jobs=jobs,
                                     progress=progress, use_cache=not no_cache)
        plan = result.plan
        warnings = format_problems(result.fleet.warnings, "text")
        if stamps is not None and (result.written or not (plan.stale or plan.conflicts)):
            stamps.record(inputs, warnings, result.tree)
        if check:
            lines = plan.summary() + [f"{p.location}: {p.message}" for p in plan.conflicts]
            _out("\n".join(lines) if lines else "rendered/ is up to date")
            return EXIT_CHANGES if plan.stale or plan.conflicts else EXIT_OK
        _err(warnings)
        _out("\n".join(plan.summary()) if result.written else "rendered/ is up to date")
        return EXIT_OK

    run(body)


@app.command()
def validate(
    root: RootOption = Path("."),
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
) -> None:
    """Run every inventory, template and fleet check; write nothing.

    Example: fleetgen validate --format github
    """
    def body() -> int:
        from generator import pipeline
        from generator.cache.store import RenderCache

        cache = RenderCache()
        fleet = pipeline.load_fleet(root.resolve(), cache=cache)
        pipeline.wanted_files(root.resolve(), fleet, cache=cache)  # templates must render too
        if fmt is Format.text:
            _err(format_problems(fleet.warnings, "text"))
            _out(f"{len(fleet.clusters)} clusters, {len(fleet.pools)} node pools: valid")
        else:
            _out(format_problems(fleet.warnings, fmt.value) or ("[]" if fmt is Format.json else ""))
        return EXIT_OK

    run(body, fmt.value)


@app.command()
def explain(
    cluster: Annotated[str, typer.Argument(help="Cluster name, mgmt/ns/name or inventory file.")],
    field: Annotated[Optional[str], typer.Argument(help="A field, e.g. network.pods.")] = None,
    root: RootOption = Path("."),
) -> None:
    """Show each effective value of a cluster and the file:line it came from.

    Example: fleetgen explain payments network
    """
    def body() -> int:
        from generator import pipeline
        from generator.commands.explain import explain as explain_rows
        from generator.commands.explain import find_cluster
        fleet = pipeline.load_fleet(root.resolve())
        rows = explain_rows(find_cluster(fleet, cluster), field)
        width = max(len(r[0]) for r in rows)
        _out("\n".join(f"{name:<{width}}  {value}  ({source})" for name, value, source in rows))
        return EXIT_OK

    run(body)


@app.command()
def schema() -> None:
    """Print the JSON Schema of inventory files (for editors).

    Example: fleetgen schema > inventory.schema.json
    """
    def body() -> int:
        from generator.load.schema import inventory_schema
        _out(json.dumps(inventory_schema(), indent=2, sort_keys=True))
        return EXIT_OK

    run(body)


class DiffFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    root: RootOption = Path("."),
    against: Annotated[Optional[str], typer.Option(
        "--against", help="Compare with rendered/ at this git revision (e.g. origin/main).")] = None,
    base: Annotated[Optional[str], typer.Option(
        "--base", help="Compare what two commits' inventories render to: the old one.")] = None,
    head: Annotated[Optional[str], typer.Option("--head", help="… and the new one.")] = None,
    live: Annotated[Optional[Path], typer.Option(
        "--live", help="An IPAM export (see ipam plan) to tell addresses in use.",
        dir_okay=False)] = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", help="Output format.")] = DiffFormat.text,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1000,
                                           help="Markdown size budget.")] = 65_000,
    fail_on: Annotated[Optional[str], typer.Option(
        "--fail-on", help=f"Exit 4 when one of these risk classes is found: "
        f"{','.join(RISK_CLASSES)}.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1,
                                      help="Render in N processes (same output).")] = 1,
    quiet: QuietOption = False,
) -> None:
    """What render would change in rendered/, object by object, with risk classes.

    Exit 0 no change, 1 changes, 4 a --fail-on risk class was found.

    Example: fleetgen diff --against origin/main --format markdown --fail-on ip-removed-in-use
    """
    def body() -> int:
        from rich.console import Console

        from generator import pipeline
        from generator.ipam.plan import read_live
        from generator.review.report import as_json as diff_json
        from generator.review.report import as_markdown as diff_markdown
        from generator.review.report import as_text as diff_text
        classes = [c.strip() for c in (fail_on or "").split(",") if c.strip()]
        unknown = [c for c in classes if c not in RISK_CLASSES]
        if unknown:
            raise FleetError([Problem(Location("."), "usage",
                                      f"unknown risk class {', '.join(unknown)}",
                                      f"risk classes: {', '.join(RISK_CLASSES)}")])
        with progress_bar("rendering", quiet) as progress:
            result = pipeline.review(root, against=against, base=base, head=head,
                                     live=read_live(live) if live else None, jobs=jobs,
                                     progress=progress)
        if fmt is DiffFormat.json:
            _out(json.dumps(diff_json(result), indent=2, ensure_ascii=False))
        elif fmt is DiffFormat.markdown:
            _out(diff_markdown(result, max_bytes))
        else:
            diff_text(result, Console(highlight=False, soft_wrap=True))
        if any(r.cls in classes for r in result.risks):
            return EXIT_POLICY
        return EXIT_CHANGES if result.changes else EXIT_OK

    run(body, "json" if fmt is DiffFormat.json else "text")


@app.command()
def init(
    target: Annotated[Path, typer.Argument(help="The folder to create the fleet repository in.",
                                           file_okay=False)],
) -> None:
    """Scaffold a fleet repository that renders at once: clusters/ with one example cluster,
    overlays/, a CI workflow, a .gitignore and a README.

    Example: fleetgen init my-fleet && cd my-fleet && fleetgen render
    """
    def body() -> int:
        from generator.commands.scaffold import init_fleet
        written = init_fleet(target)
        _out("\n".join(f"create {p.relative_to(target.resolve()).as_posix()}"
                        if p.is_absolute() else f"create {p.as_posix()}" for p in written))
        return EXIT_OK

    run(body)


new_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                      help="Create new inventory files.")
app.add_typer(new_app, name="new")


@new_app.command("cluster")
def new_cluster_command(
    path: Annotated[Path, typer.Argument(help="The new inventory file, under clusters/.")],
    root: RootOption = Path("."),
) -> None:
    """Write a commented inventory for a new cluster: only the keys it must still set, and the
    values it inherits from the _defaults.yaml files above it.

    Example: fleetgen new cluster clusters/site-a/prod/orders.yaml
    """
    def body() -> int:
        from generator.commands.scaffold import new_cluster
        base = root.resolve()
        target = path if path.is_absolute() else Path.cwd() / path
        written = new_cluster(base, target)
        _out(f"wrote {written.relative_to(base).as_posix() if written.is_absolute() else written}")
        return EXIT_OK

    run(body)


import_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Bring existing clusters into the inventory.")
app.add_typer(import_app, name="import")


@import_app.command("tkg")
def import_tkg_command(
    flat: Annotated[Path, typer.Argument(help="A TKG flat cluster configuration file.",
                                         dir_okay=False, exists=True)],
    pool: Annotated[Optional[Path], typer.Option(
        "--pool", help="Its node IP pool (InClusterIPPool / GlobalInClusterIPPool, v1alpha1 or "
        "v1alpha2).", dir_okay=False, exists=True)] = None,
    to: Annotated[Path, typer.Option("--to", help="The clusters/ folder to write into.",
                                     file_okay=False)] = Path("clusters"),
    root: RootOption = Path("."),
) -> None:
    """Turn a TKG flat cluster config (and its pool) into an inventory file.

    Values the folder's _defaults.yaml already give are not repeated; variables that are not
    imported are reported and listed at the top of the file; passwords are refused.

    Example: fleetgen import tkg wl1.yaml --pool wl1-pool.yaml --to clusters/site-a/prod
    """
    def body() -> int:
        from generator.tkg.importer import import_tkg
        from generator.write.core import atomic_write
        base = root.resolve()
        result = import_tkg(base, flat, pool, to if to.is_absolute() else base / to)
        _err(format_problems(result.reported, "text"))
        atomic_write(result.path, result.text.encode("utf-8"))
        _out(f"wrote {result.path.relative_to(base).as_posix()}")
        return EXIT_OK

    run(body)


ipam_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Node IPAM: pool capacity, allocation preview, v1alpha1 migration.")
app.add_typer(ipam_app, name="ipam")


class PlanFormat(str, Enum):
    text = "text"
    json = "json"


@ipam_app.command("plan")
def ipam_plan(
    root: RootOption = Path("."),
    live: Annotated[Optional[Path], typer.Option(
        "--live", help="kubectl get ipaddresses,ipaddressclaims,inclusterippools,"
        "globalinclusterippools -A -o yaml, from one management cluster.", dir_okay=False)] = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", help="Output format.")] = PlanFormat.text,
) -> None:
    """Per node pool: size, users, need, headroom and the next addresses in allocation order.

    Exit 4 when a pool is short or an address in use (per --live) would leave its pool.

    Example: fleetgen ipam plan --live ipam-export.yaml
    """
    def body() -> int:
        from generator import pipeline
        from generator.ipam.plan import as_json as plan_json
        from generator.ipam.plan import as_text as plan_text
        from generator.ipam.plan import make_plan, read_live
        fleet = pipeline.load_fleet(root.resolve(), relaxed=frozenset({"pool-capacity"}))
        plan = make_plan(fleet, read_live(live) if live else None)
        if fmt is PlanFormat.json:
            _out(json.dumps(plan_json(plan), indent=2))
        else:
            _out(plan_text(plan))
        return EXIT_POLICY if plan.blocked else EXIT_OK

    run(body, fmt.value)


@ipam_app.command("migrate")
def ipam_migrate(
    files: Annotated[list[Path], typer.Argument(help="YAML files holding pools.", dir_okay=False,
                                                exists=True)],
    write: Annotated[bool, typer.Option("--write", help="Rewrite the files in place (comments "
                                        "are not kept).")] = False,
) -> None:
    """Convert v1alpha1 pools (start/end/subnet) to v1alpha2 as the provider does.

    Example: fleetgen ipam migrate pools/*.yaml --write
    """
    def body() -> int:
        from generator.ipam.migrate import migrate_file
        from generator.write.core import atomic_write
        results, problems = [], []
        for path in files:
            try:
                results.append((path, *migrate_file(path, str(path))))
            except FleetError as exc:
                problems.extend(exc.problems)
        if problems:
            raise FleetError(problems)
        for path, text, converted in results:
            if write:
                if converted:
                    atomic_write(path, text.encode("utf-8"))
                _err(f"{path}: {converted} pool{'s' if converted != 1 else ''} converted")
            else:
                _out(text)
        return EXIT_OK

    run(body)


def main() -> None:
    # One program name however it is started (`python -m generator` too), so usage lines and
    # shell completion (_FLEETGEN_COMPLETE) work the same.
    app(prog_name="fleetgen")
