"""The command line: options, and the one place outcomes become exit codes.

Each command's body is a function in ``generator.commands`` that takes plain arguments and
returns the exit code; it is imported when the command runs, so `fleetgen --help` and shell
completion start in a fraction of a second."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterator, NoReturn, Optional

import typer

from generator.commands.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, Interrupted
from generator.commands.output import err, out, plain_style
from generator.problems import FleetError, format_problems
from generator.review.classes import RISK_CLASSES

if TYPE_CHECKING:
    from generator.pipeline import Progress as RenderProgress

app = typer.Typer(add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  help="Render TKG / Cluster API cluster inventories into GitOps manifests.")

def _argument_types_hidden() -> None:
    """Recent typer prints an argument's Python type after its metavar (``FILE...
    <list[Path]>``); fleetgen's arguments say what they are in the metavar, so the type is left
    out. Only where typer has that method; older typer prints no type at all."""
    argument = getattr(getattr(typer, "core", None), "TyperArgument", None)
    original = getattr(argument, "display_type_rich", None)
    if argument is None or original is None:
        return

    def display_type_rich(self: Any, ctx: Any) -> Any:
        return None if getattr(self, "metavar", None) else original(self, ctx)

    argument.display_type_rich = display_type_rich


_argument_types_hidden()

# --- shell completion: cheap, from file names only (nothing is validated while a user types) ----

def complete_clusters(root: Path | None, incomplete: str) -> list[str]:
    """Cluster names for the shell: the inventory file names below the fleet's clusters/."""
    from generator.paths import CLUSTERS_DIR, CLUSTER_OVERLAY_SUFFIX, DEFAULTS_FILE, find_root, walk
    files, _ = walk(find_root(root or Path(".")) / CLUSTERS_DIR)
    names = {Path(rel).stem for rel, _ in files if rel.endswith(".yaml")
             and Path(rel).name != DEFAULTS_FILE and not rel.endswith(CLUSTER_OVERLAY_SUFFIX)}
    return sorted(n for n in names if n.startswith(incomplete))


def complete_select(root: Path | None, incomplete: str) -> list[str]:
    """--select patterns: cluster names, and the label: form."""
    return [*complete_clusters(root, incomplete),
            *(["label:"] if "label:".startswith(incomplete) else [])]


def complete_classes(incomplete: str) -> list[str]:
    """--fail-on classes, comma-separated: the part after the last comma is completed."""
    done, _, last = incomplete.rpartition(",")
    given = set(done.split(",")) if done else set()
    prefix = f"{done}," if done else ""
    return [prefix + c for c in RISK_CLASSES if c.startswith(last) and c not in given]


QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _print_version(value: bool) -> None:
    if value:
        from generator.commands.source import version_line
        out(version_line())
        raise typer.Exit(0)


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print fleetgen's version and exit.")] = False) -> None:
    """Render TKG / Cluster API cluster inventories into GitOps manifests."""


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
                  console=Console(stderr=True, **plain_style()), transient=True) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _fleet_root(value: Path) -> Path:
    from generator.paths import find_root
    return find_root(value)


RootOption = Annotated[Path, typer.Option(
    "--root", help="The fleet repository (holds clusters/); by default the one the current "
    "folder is in, found upwards as git finds a repository.", file_okay=False,
    callback=_fleet_root)]


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _changed(root: Path | None) -> frozenset[str]:
    """The files of the fleet at ``root`` that git says were changed: their problems come first
    (a duplicate endpoint is reported at both clusters; the one just edited leads)."""
    if root is None:
        return frozenset()
    from generator.review.git import edited_files
    return edited_files(root)


def run(action: Callable[[], int], fmt: str = "text", *, writes: bool = False,
        root: Path | None = None) -> NoReturn:
    """Run a command body; every failure becomes its exit code here and nowhere else. A command
    that ``writes`` files says after its problems that it wrote nothing (or what it left).
    Problems in the files of ``root`` that git sees changed are listed first."""
    try:
        code = action()
    except FleetError as exc:
        first = _changed(root)
        if fmt == "text":
            err(format_problems(exc.problems, fmt, first))
            errors = sum(1 for p in exc.problems if p.severity == "error")
            outcome = ("; rendered/ is partly updated (each file whole, old or new); render "
                       "again to finish" if exc.partial else "; nothing was written"
                       if writes else "")
            err(f"{errors} error{'s' if errors != 1 else ''}{outcome}")
            if exc.note():
                err(exc.note())
        else:
            out(format_problems(exc.problems, fmt, first))
        code = EXIT_INVALID
    except (KeyboardInterrupt, Interrupted):
        err("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 3
        from generator.problems import printable
        from generator.secrets import scrub

        err(f"An unexpected error has occurred: {type(exc).__name__}: {printable(scrub(str(exc)))}\n"
            "This is a bug in fleetgen; please report it with the command you ran.")
        code = EXIT_INTERNAL
    raise typer.Exit(code)


@app.command()
def render(
    ctx: typer.Context,
    root: RootOption = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if rendered/ is "
                                        "stale.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite generated files edited by "
                                        "hand.")] = False,
    select: Annotated[Optional[list[str]], typer.Option(
        "--select", metavar="PATTERN", autocompletion=lambda ctx, incomplete: complete_select(
            ctx.params.get("root"), incomplete), help="Only these clusters: name, mgmt/ns/name, file path (globs allowed) or "
        "label:KEY=VALUE; repeatable.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, metavar="N",
                                      help="Render in N processes (same output).")] = 1,
    quiet: QuietOption = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Render every cluster again "
                                           "instead of reusing the render cache.")] = False,
) -> None:
    """Render the fleet into rendered/.

    Example: fleetgen render --check
    """
    def body() -> int:
        from generator.commands.render import render as command
        return command(root, check=check, force=force, select=select, jobs=jobs,
                       no_cache=no_cache, progress=lambda what: progress_bar(what, quiet),
                       looked_up=ctx.obj)

    run(body, writes=True, root=root)


@app.command()
def validate(
    root: RootOption = Path("."),
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
) -> None:
    """Run every inventory, template and fleet check; write nothing.

    Example: fleetgen validate --format github
    """
    def body() -> int:
        from generator.commands.validate import validate as command
        return command(root, fmt.value)

    run(body, fmt.value, root=root)


@app.command()
def explain(
    cluster: Annotated[str, typer.Argument(help="Cluster name, mgmt/ns/name or inventory file.",
                                           autocompletion=lambda ctx, incomplete: complete_clusters(
                                               ctx.params.get("root"), incomplete),
                                           metavar="CLUSTER")],
    field: Annotated[Optional[str], typer.Argument(help="A field, e.g. network.pods.",
                                                   metavar="FIELD")] = None,
    root: RootOption = Path("."),
) -> None:
    """Show each effective value of a cluster and the file:line it came from.

    Example: fleetgen explain payments network
    """
    def body() -> int:
        from generator.commands.explain import explain as command
        return command(root, cluster, field)

    run(body)


@app.command()
def schema() -> None:
    """Print the JSON Schema of inventory files (for editors).

    Example: fleetgen schema > inventory.schema.json
    """
    def body() -> int:
        from generator.commands.schema import schema as command
        return command()

    run(body)


class DiffFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    root: RootOption = Path("."),
    against: Annotated[Optional[str], typer.Option(
        "--against", metavar="REF", help="Compare with rendered/ at this git revision (e.g. origin/main).")] = None,
    base: Annotated[Optional[str], typer.Option(
        "--base", metavar="REF", help="Compare what two commits' inventories render to: the old one.")] = None,
    head: Annotated[Optional[str], typer.Option("--head", metavar="REF", help="… and the new one.")] = None,
    live: Annotated[Optional[list[Path]], typer.Option(
        "--live", metavar="FILE", help="Live exports (kubectl get … -A -o yaml; see the README's "
        "'Adopting existing clusters'): compare with what runs, and tell addresses in use. One per "
        "management cluster, repeatable, or several in one file (one YAML document each).",
        dir_okay=False)] = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", help="Output format.")] = DiffFormat.text,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1000, metavar="N",
                                           help="Markdown size budget.")] = 65_000,
    fail_on: Annotated[Optional[str], typer.Option(
        "--fail-on", metavar="CLASS,…", autocompletion=lambda incomplete: complete_classes(
            incomplete), help=f"Exit 4 when one of these risk classes is found: "
        f"{','.join(RISK_CLASSES)}.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, metavar="N",
                                      help="Render in N processes (same output).")] = 1,
    quiet: QuietOption = False,
) -> None:
    """What render would change in rendered/, object by object, with risk classes.

    Exit 0 no change, 1 changes, 4 a --fail-on risk class was found.

    Example: fleetgen diff --against origin/main --format markdown --fail-on ip-removed-in-use
    """
    def body() -> int:
        from generator.commands.diff import diff as command
        return command(root, against=against, base=base, head=head, live=live or [],
                       fmt=fmt.value, max_bytes=max_bytes, fail_on=fail_on, jobs=jobs,
                       progress=lambda what: progress_bar(what, quiet))

    run(body, "json" if fmt is DiffFormat.json else "text", root=root)


@app.command()
def init(
    target: Annotated[Path, typer.Argument(help="The folder to create the fleet repository in.",
                                           metavar="DIR",
                                           file_okay=False)],
    install: Annotated[Optional[str], typer.Option(
        "--install", metavar="REQUIREMENT",
        help="How CI installs fleetgen, pinned: fleetgen==VERSION or fleetgen @ "
        "git+https://HOST/PATH@TAG-OR-COMMIT. Default: where this fleetgen was installed from "
        "(see fleetgen --version).")] = None,
) -> None:
    """Scaffold a fleet repository that renders at once: clusters/ with one example cluster,
    overlays/, CI workflows, a .gitignore and a README. The folder may be a fresh git
    repository: init writes beside what is there and never overwrites a file.

    Example: fleetgen init my-fleet && cd my-fleet && fleetgen render
    """
    def body() -> int:
        from generator.commands.init import init as command
        return command(target, install)

    run(body, writes=True)


new_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                      help="Create new inventory files.")
app.add_typer(new_app, name="new")


@new_app.command("cluster")
def new_cluster_command(
    path: Annotated[Path, typer.Argument(help="The new inventory file, under clusters/.",
                                         metavar="FILE")],
    root: RootOption = Path("."),
) -> None:
    """Write a commented inventory for a new cluster: only the keys it must still set, and the
    values it inherits from the _defaults.yaml files above it.

    Example: fleetgen new cluster clusters/site-a/prod/orders.yaml
    """
    def body() -> int:
        from generator.commands.new import new as command
        return command(root, path)

    run(body, writes=True)


import_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Bring existing clusters into the inventory.")
app.add_typer(import_app, name="import")


@import_app.command("tkg")
def import_tkg_command(
    flat: Annotated[Path, typer.Argument(
        help="A TKG flat cluster configuration file, or a folder of them (directly or in a "
        "sub-folder per management cluster).", exists=True, metavar="FLAT|DIR")],
    pool: Annotated[Optional[Path], typer.Option(
        "--pool", help="Its node IP pool (InClusterIPPool / GlobalInClusterIPPool, v1alpha1 or "
        "v1alpha2).", dir_okay=False, exists=True)] = None,
    pools: Annotated[Optional[Path], typer.Option(
        "--pools", help="With a folder: a folder of pool files (else the *-pool.yaml files "
        "beside the flat configs).", file_okay=False, exists=True)] = None,
    to: Annotated[Optional[Path], typer.Option(
        "--to", help="The clusters/ folder to write into (default: clusters; with --map, the "
        "folder for flat configs no rule matches).", file_okay=False)] = None,
    mapping: Annotated[Optional[Path], typer.Option(
        "--map", help="A list of rules {managementCluster, namespace, to}: the first that "
        "matches a flat config says its folder.", dir_okay=False, exists=True)] = None,
    root: RootOption = Path("."),
) -> None:
    """Turn TKG flat cluster configs (and their pools) into inventory files, all or nothing.

    Each file renders the cluster the flat config describes: values the folder's _defaults.yaml
    give are not repeated, values it would change are written; variables that are not imported
    are reported and listed at the top of the file; passwords are refused. Every fleet check runs
    before anything is written.

    Example: fleetgen import tkg wl1.yaml --pool wl1-pool.yaml --to clusters/site-a/prod

    Example: fleetgen import tkg exported/ --map import-map.yaml
    """
    def body() -> int:
        from generator.commands.import_tkg import import_tkg as command
        return command(root, flat, pool, to, pools=pools, mapping=mapping)

    run(body, writes=True)


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
        "--live", metavar="FILE", help="kubectl get ipaddresses,ipaddressclaims,inclusterippools,"
        "globalinclusterippools -A -o yaml, from one management cluster.", dir_okay=False)] = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", help="Output format.")] = PlanFormat.text,
) -> None:
    """Per node pool: size, users, need, headroom and the next addresses in allocation order.

    Exit 4 when a pool is short or an address in use (per --live) would leave its pool.

    Example: fleetgen ipam plan --live ipam-export.yaml
    """
    def body() -> int:
        from generator.commands.ipam import plan as command
        return command(root, live, fmt.value)

    run(body, fmt.value)


@ipam_app.command("migrate")
def ipam_migrate(
    files: Annotated[list[Path], typer.Argument(help="YAML files holding pools.", dir_okay=False,
                                                metavar="FILE...",
                                                exists=True)],
    write: Annotated[bool, typer.Option("--write", help="Rewrite the files in place (comments "
                                        "are not kept).")] = False,
) -> None:
    """Convert v1alpha1 pools (start/end/subnet) to v1alpha2 as the provider does.

    Example: fleetgen ipam migrate pools/*.yaml --write
    """
    def body() -> int:
        from generator.commands.ipam import migrate as command
        return command(files, write)

    run(body, writes=True)


def main(obj: Any = None) -> None:
    """Run the command line. ``obj`` becomes the commands' context object: the launcher passes
    the stamp lookup it made (``generator.commands.render.Lookup``) to the render command."""
    # One program name however it is started (`python -m generator` too), so usage lines and
    # shell completion (_FLEETGEN_COMPLETE) work the same.
    app(prog_name="fleetgen", obj=obj)
