"""Benchmark: fleetgen on synthetic fleets of N clusters, against kustomize building the same
objects (issues 8 and 20). See docs/performance.md for what each row means and the targets.

    .venv/bin/python bench/fleet.py                      # sizes 100, 1000, 5000, 10000; 5 runs
    .venv/bin/python bench/fleet.py --quick              # sizes 100 and 1000; 3 runs
    .venv/bin/python bench/fleet.py --sizes 1000,5000 --runs 3 \
        --markdown perf.md --json perf.json
    .venv/bin/python bench/fleet.py --rows 1000=all --rows 5000=diff \
        --rows 10000=noop,rss,growth                     # only some rows per size

Each size is generated into a temporary folder (``bench/synth.py``: vSphere DHCP and node IPAM,
IPv6-only, dual-stack, AWS, Azure, over several management clusters and namespaces, every
cluster with the overlays ``sizing`` and ``labels``). Every fleetgen command runs as a subprocess
of ``.venv/bin/fleetgen`` and is timed wall-clock; each row is the median of ``--runs`` runs (fewer
when one row's runs have used up ``--budget`` seconds; the table says so). Peak RSS is each
process's own ``ru_maxrss`` (``os.wait4``). The kustomize rows build the same objects from plain
kustomize folders (the fleet rendered without overlays, plus the overlays as kustomize
Components) with ``kubectl kustomize``; per-overlay processes are timed on a sample of 50 and
extrapolated linearly for larger fleets. The plain-fleet rows time fleetgen's cold render of N
copies of one imported vSphere DHCP cluster side by side with kustomize building N overlays of
that cluster (``namePrefix`` and one JSON 6902 patch each) in one process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (bench/synth.py, beside this file)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (100, 1000, 5000, 10000)
QUICK_SIZES = (100, 1000)
SAMPLE = 50  # per-overlay kustomize processes timed on large fleets
KUSTOMIZE_ONE_MAX = 1000  # one kustomize process: 183 s at 5,000 synthetic clusters, 11 min at 10k

# Every row the benchmark can measure, in the order it measures them, and the names --rows also
# takes for several of them at once.
ROWS = ("help", "validate", "ipam_plan", "render_full", "render_full_jobs2", "render_full_warm",
        "render_noop", "render_check", "diff_one", "diff_one_cold", "diff_one_ci", "diff_pools",
        "kustomize_one", "kustomize_per_overlay", "plain_render", "plain_kustomize")
ROW_GROUPS: dict[str, tuple[str, ...]] = {
    "all": ROWS,
    "ipam": ("ipam_plan",),
    "cold": ("render_full",),
    "rss": ("render_full",),
    "growth": ("render_full",),
    "render": ("render_full", "render_full_jobs2", "render_full_warm"),
    "noop": ("render_noop", "render_check"),
    "diff": ("diff_one", "diff_one_cold", "diff_one_ci", "diff_pools"),
    "kustomize": ("render_full", "kustomize_one", "kustomize_per_overlay"),
    "plain": ("plain_render", "plain_kustomize"),
}
# rows that need the synthetic fleet rendered (untimed, when no render row ran)
NEED_RENDERED = {"render_noop", "render_check", "diff_one", "diff_one_cold", "diff_one_ci",
                 "diff_pools", "kustomize_one", "kustomize_per_overlay"}
NOT_OBJECTS = {"kustomization.yaml", "cluster-config.yaml", "features.yaml",
               "tanzu-features.yaml"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- running one process ---------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    rss_mb: float
    code: int
    stdout: str = ""
    stderr: str = ""
    spent: float | None = None  # wall-clock actually spent, when ``seconds`` is extrapolated


def run(cmd: list[str], cwd: Path, env: dict[str, str], *, timeout: float,
        capture: bool = False) -> Run:
    """Run ``cmd`` and return its wall-clock time, its own peak RSS and exit code. stdout goes to
    a file (as rendering to a file would), kept only with ``capture``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
        timer = threading.Timer(timeout, lambda: _kill(proc.pid))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen quiet
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace") if capture else ""
        stderr = err.read().decode("utf-8", "replace")
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, stdout, stderr)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- one measured row ------------------------------------------------------------------------

@dataclass
class Row:
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    error: str | None = None
    note: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and not self.error else None

    @property
    def peak_rss(self) -> float | None:
        return max(self.rss_mb) if self.rss_mb and not self.error else None


def _one_run(row: Row, once: Any, before: Any, expect: tuple[int, ...]) -> Run | None:
    """One run of a row: its time and peak RSS added to ``row``, or None with ``row.error`` set
    (a broken row must not stop the others)."""
    try:
        if before is not None:
            before()
        result: Run = once()
    except Exception as exc:  # noqa: BLE001 - a broken row must not stop the others
        row.error = f"{type(exc).__name__}: {exc}"
        return None
    if result.code not in expect:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        row.error = f"exit {result.code}: {' | '.join(tail)[:300]}"
        return None
    row.seconds.append(result.seconds)
    row.rss_mb.append(result.rss_mb)
    return result


def _log_row(row: Row, key: str) -> None:
    shown = f"{row.median:.3f} s" if row.median is not None else f"FAILED ({row.error})"
    log(f"  {key}: {shown}" + (f" [{row.note}]" if row.note else ""))


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.fleetgen = str(args.fleetgen)
        self.kubectl = args.kubectl
        self.results: dict[int, dict[str, Any]] = {}

    def repeat(self, rows: dict[str, Row], key: str, once: Any, *, expect: tuple[int, ...] = (0,),
               before: Any = None) -> Row:
        """Run ``once()`` (returning a Run) up to --runs times, within --budget seconds."""
        row = rows.setdefault(key, Row())
        spent = 0.0
        for index in range(self.args.runs):
            if index and spent > self.args.budget:
                row.note = f"{index} of {self.args.runs} runs (budget {self.args.budget:g} s)"
                break
            result = _one_run(row, once, before, expect)
            if result is None:
                break
            spent += result.seconds if result.spent is None else result.spent
        _log_row(row, key)
        return row

    def side_by_side(self, rows: dict[str, Row], measured: list[tuple[str, Any, Any]]) -> None:
        """Run several rows alternately, one run of each per round, up to --runs rounds within
        --budget seconds for all of them together: a comparison measured side by side, so a
        change of the machine's load between two rows does not become their ratio.
        ``measured`` holds (key, once, before) as ``repeat`` takes them."""
        active = [(rows.setdefault(key, Row()), key, once, before)
                  for key, once, before in measured]
        spent = 0.0
        for index in range(self.args.runs):
            if index and spent > self.args.budget:
                for row, *_ in active:
                    row.note = f"{index} of {self.args.runs} runs (budget {self.args.budget:g} s)"
                break
            for row, key, once, before in active:
                if row.error is not None:
                    continue
                result = _one_run(row, once, before, (0,))
                if result is not None:
                    spent += result.seconds
        for row, key, *_ in active:
            _log_row(row, key)

    def skip(self, rows: dict[str, Row], key: str, why: str) -> Row:
        """A row asked for but not measured on purpose (its cell says ``skipped``)."""
        row = rows.setdefault(key, Row())
        row.note = f"skipped: {why}"
        log(f"  {key}: {row.note}")
        return row

    def selected(self, n: int) -> set[str]:
        """The rows to measure at size n: those --rows names for n, else for every size."""
        spec: dict[int | None, set[str]] = self.args.rows_by_size
        return spec.get(n, spec.get(None, set(ROWS)))

    def fleetgen_cmd(self, *args: str) -> list[str]:
        return [self.fleetgen, *args]

    # -- one size -----------------------------------------------------------------------------

    def measure(self, n: int) -> dict[str, Any]:
        args = self.args
        base = Path(tempfile.mkdtemp(prefix=f"fleetgen-bench-{n}-", dir=args.tmp))
        try:
            return self._measure(n, base)
        finally:
            if args.keep:
                log(f"kept {base}")
            else:
                shutil.rmtree(base, ignore_errors=True)

    def _measure(self, n: int, base: Path) -> dict[str, Any]:
        args = self.args
        want = self.selected(n)
        fleet_dir, bare_dir, kz_dir, cache = (base / "fleet", base / "bare", base / "kustomize",
                                              base / "cache")
        rows: dict[str, Row] = {}
        info: dict[str, Any] = {"clusters": n, "managementClusters": 0, "namespaces": 0,
                                "nodePools": 0, "notes": [],
                                "rowsSelected": [k for k in ROWS if k in want]}
        # fleetgen's render cache (if this version has one) goes to a folder of this run, so
        # "from scratch" can clear it and no run reuses the developer's own cache
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "XDG_CACHE_HOME": str(cache),
               "FLEETGEN_CACHE_DIR": str(cache / "fleetgen")}
        cache.mkdir()
        t = args.timeout

        def fg(*argv: str, root: Path = fleet_dir, capture: bool = False,
               environ: dict[str, str] = env) -> Run:
            return run(self.fleetgen_cmd(*argv), root, environ, timeout=t, capture=capture)

        fg("--help", root=base)  # warm-up, untimed: byte-compiles modules edited since last run
        if "help" in want:
            self.repeat(rows, "help", lambda: fg("--help", root=base))
        if want - {"help", "plain_render", "plain_kustomize"}:
            self.measure_synthetic(rows, info, want, n, base, fleet_dir, bare_dir, kz_dir, cache,
                                   fg, env)
        if want & {"plain_render", "plain_kustomize"}:
            self.measure_plain(rows, info, want, n, base, fg)
        info["rows"] = {key: {"median": row.median, "runs": row.seconds, "rssMB": row.rss_mb,
                              "peakRssMB": row.peak_rss, "error": row.error, "note": row.note}
                        for key, row in rows.items()}
        return info

    def measure_synthetic(self, rows: dict[str, Row], info: dict[str, Any], want: set[str],
                          n: int, base: Path, fleet_dir: Path, bare_dir: Path, kz_dir: Path,
                          cache: Path, fg: Any, env: dict[str, str]) -> None:
        """The rows on the synthetic fleet of ``bench/synth.py`` (every row but start-up and
        the plain fleet's), in the order of ``ROWS``."""
        start = time.perf_counter()
        fleet = synth.generate(fleet_dir, n)
        log(f"N={n}: generated in {time.perf_counter() - start:.1f} s under {base} "
            f"({len(fleet.management_clusters)} management clusters, {len(fleet.namespaces)} "
            f"namespaces, {fleet.pools} node pools)")
        info.update({"clusters": fleet.clusters, "kinds": fleet.kinds,
                     "managementClusters": len(fleet.management_clusters),
                     "namespaces": len(fleet.namespaces), "nodePools": fleet.pools})
        snapshot = set(os.listdir(fleet_dir))

        def scratch() -> None:
            """From scratch: no rendered/, nothing else fleetgen left in the fleet, no cache."""
            for entry in set(os.listdir(fleet_dir)) - snapshot - {".git"}:
                path = fleet_dir / entry
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            shutil.rmtree(fleet_dir / "rendered", ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()

        if "validate" in want:
            validate = self.repeat(rows, "validate", lambda: fg("validate", capture=True))
            if validate.error is None:
                check = fg("validate", capture=True)
                info["validate"] = check.stdout.strip()
                warnings = [line for line in check.stderr.splitlines() if "warning[" in line]
                info["validateWarnings"] = len(warnings)
                log(f"  validate says: {check.stdout.strip()}; {len(warnings)} warnings")
                if warnings:  # the synthetic fleet is meant to validate without one
                    validate.note = (f"{len(warnings)} warnings, the fleet should have none; "
                                     f"first: {warnings[0][:200]}")
                    log(f"  validate: WARNING {validate.note}")
        if "ipam_plan" in want:
            self.repeat(rows, "ipam_plan", lambda: fg("ipam", "plan"))
        if "render_full" in want:
            self.repeat(rows, "render_full", lambda: fg("render", "-q"), before=scratch)
        if "render_full_jobs2" in want:
            self.repeat(rows, "render_full_jobs2", lambda: fg("render", "-q", "--jobs", "2"),
                        before=scratch)
        if "render_full_warm" in want:
            fg("render", "-q")  # fills the cache (if any) for the warm row
            self.repeat(rows, "render_full_warm", lambda: fg("render", "-q"),
                        before=lambda: shutil.rmtree(fleet_dir / "rendered", ignore_errors=True))
        rendered = fleet_dir / "rendered"
        if want & NEED_RENDERED and not (rendered.is_dir() and any(rendered.iterdir())):
            fg("render", "-q")  # no render row ran, or every run failed
        if not rendered.is_dir():
            return
        files = [p for p in rendered.rglob("*") if p.is_file()
                 and not p.name.startswith(".fleetgen")]
        info["renderedFiles"] = len(files)
        objects = object_files(rendered)
        info["objects"] = sum(_count_documents(p) for p in objects)
        if "render_noop" in want:
            self.repeat(rows, "render_noop", lambda: fg("render", "-q"))
        if "render_check" in want:
            self.repeat(rows, "render_check", lambda: fg("render", "--check", "-q"))
        if want & {"diff_one", "diff_one_cold", "diff_one_ci", "diff_pools"}:
            self.measure_diff(rows, info, want, fleet, fg, env, cache, base)

        if not want & {"kustomize_one", "kustomize_per_overlay"} or self.args.no_kustomize:
            return
        if self.kubectl:
            self.measure_kustomize(rows, info, want, bare_dir, kz_dir, rendered, fg, env, n)
        else:
            info["notes"].append("kubectl not found: kustomize rows skipped")

    def measure_diff(self, rows: dict[str, Row], info: dict[str, Any], want: set[str],
                     fleet: synth.Fleet, fg: Any, env: dict[str, str], cache: Path,
                     base: Path) -> None:
        """``fleetgen diff`` (working-tree mode) in a git repository holding the rendered fleet,
        after one cluster's inventory changed (md-0 of a DHCP cluster scaled by one): with the
        render cache as the renders before left it (a developer's machine), empty (CI without
        a cache), and in a fresh clone with the cache the committed fleet's render left (CI
        restoring the base branch's cache); then the 20-pool edit."""
        root = fleet.root
        target = fleet.edit_target
        if target is None:
            rows["diff_one"] = Row(error="no DHCP cluster to edit in this fleet")
            return
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
               "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]
        try:
            for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "rendered fleet"]):
                subprocess.run(git + argv, cwd=root, check=True, capture_output=True)
            text = target.read_text()
            edited, count = re.subn(r"replicas: (\d+)",
                                    lambda m: f"replicas: {int(m.group(1)) + 1}", text, count=1)
            if not count:
                raise RuntimeError(f"no replicas line in {target}")
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            rows["diff_one"] = Row(error=f"git setup failed: {exc}")
            log(f"  diff_one: FAILED ({exc})")
            return
        # what a CI cache action saved after the base branch's run: the cache as the renders
        # of the committed fleet left it (its entries name no absolute path)
        saved = base / "ci-cache-saved"
        if "diff_one_ci" in want:
            shutil.copytree(cache, saved, symlinks=True)
        target.write_text(edited)
        rel = target.relative_to(root)
        info["diffEdit"] = f"{rel.as_posix()}: md-0 replicas + 1"

        def names_target(key: str, out: Run) -> None:
            """A diff that does not name the edited cluster measured the wrong thing: say so."""
            if target.stem not in out.stdout:
                rows[key].note = "diff output does not name the edited cluster"
                log(f"  {key}: WARNING {rows[key].note}")

        if "diff_one" in want:
            row = self.repeat(rows, "diff_one", lambda: fg("diff", "-q", capture=True),
                              expect=(1,))
            if row.error is None:
                names_target("diff_one", fg("diff", "-q", capture=True))

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()

        if "diff_one_cold" in want:
            self.repeat(rows, "diff_one_cold", lambda: fg("diff", "-q", capture=True),
                        expect=(1,), before=empty_cache)
        if "diff_one_ci" in want:
            checkout, ci_cache = base / "ci-checkout", base / "ci-cache"
            ci_env = {**env, "XDG_CACHE_HOME": str(ci_cache),
                      "FLEETGEN_CACHE_DIR": str(ci_cache / "fleetgen")}

            def ci_runner() -> None:
                """A CI job: a fresh clone of the committed fleet (new inodes and times), the
                one-cluster edit on top, the saved cache restored."""
                shutil.rmtree(checkout, ignore_errors=True)
                subprocess.run(git + ["clone", "-q", str(root), str(checkout)], check=True,
                               capture_output=True)
                (checkout / rel).write_text(edited)
                shutil.rmtree(ci_cache, ignore_errors=True)
                shutil.copytree(saved, ci_cache, symlinks=True)

            ci = self.repeat(rows, "diff_one_ci",
                             lambda: fg("diff", "-q", capture=True, root=checkout,
                                        environ=ci_env),
                             expect=(1,), before=ci_runner)
            if ci.error is None and ci.seconds:
                names_target("diff_one_ci",
                             fg("diff", "-q", capture=True, root=checkout, environ=ci_env))
            shutil.rmtree(checkout, ignore_errors=True)
        target.write_text(text)
        if "diff_pools" in want:
            self.measure_diff_pools(rows, info, root, fg)

    def measure_diff_pools(self, rows: dict[str, Row], info: dict[str, Any], root: Path,
                           fg: Any, pools: int = 20) -> None:
        """``fleetgen diff`` after ``_defaults.yaml`` edits that change ``pools`` node pools'
        addresses (each pool's range loses its last address; the synthetic fleet declares one
        pool per ``ipam/<pool>/_defaults.yaml``), the render cache as the renders left it."""
        files = sorted((root / "clusters").rglob("ipam/*/_defaults.yaml"))[:pools]
        if len(files) < pools:  # a fleet under about 200 clusters
            self.skip(rows, "diff_pools", f"only {len(files)} pool files in this fleet")
            return
        before = {path: path.read_text() for path in files}
        range_line = re.compile(r"^(    - )(\d+\.\d+\.\d+\.)(\d+)-(\d+\.\d+\.\d+\.)(\d+)$",
                                re.MULTILINE)
        try:
            for path, text in before.items():
                edited, count = range_line.subn(
                    lambda m: f"{m[1]}{m[2]}{m[3]}-{m[4]}{int(m[5]) - 1}", text, count=1)
                if not count:
                    raise RuntimeError(f"no address range in {path}")
                path.write_text(edited)
            info["diffPoolsEdit"] = (f"{pools} ipam/<pool>/_defaults.yaml files: each pool's "
                                     "range one address shorter")
            row = self.repeat(rows, "diff_pools", lambda: fg("diff", "-q", capture=True),
                              expect=(1,))
            if row.error is None:
                out = fg("diff", "-q", capture=True)
                missing = [p.parent.name for p in files if p.parent.name not in out.stdout]
                if missing:
                    row.note = f"diff output does not name pool {missing[0]}"
                    log(f"  diff_pools: WARNING {row.note}")
        except (OSError, RuntimeError) as exc:
            rows["diff_pools"] = Row(error=f"edit failed: {exc}")
            log(f"  diff_pools: FAILED ({exc})")
        finally:
            for path, text in before.items():
                path.write_text(text)

    def measure_kustomize(self, rows: dict[str, Row], info: dict[str, Any], want: set[str],
                          bare_dir: Path, kz_dir: Path, rendered: Path, fg: Any,
                          env: dict[str, str], n: int) -> None:
        """kustomize building the synthetic fleet's objects: one process over every cluster's
        folder (up to --kustomize-one-max clusters), and one process per cluster folder."""
        args = self.args
        synth.generate(bare_dir, n, overlays=False)
        bare = fg("render", "-q", "--jobs", "2", root=bare_dir)
        if bare.code != 0:
            rows["kustomize_one"] = Row(error=f"rendering the fleet without overlays failed: "
                                              f"exit {bare.code}: {bare.stderr[-300:]}")
            return
        folders = build_kustomize_tree(bare_dir / "rendered", kz_dir)
        info["kustomizeOverlays"] = len(folders)
        out_file = kz_dir.parent / "kustomize-out.yaml"
        kubectl = self.kubectl
        assert kubectl is not None

        def one_process() -> Run:
            result = run([kubectl, "kustomize", str(kz_dir)], kz_dir, env, timeout=args.timeout,
                         capture=True)
            out_file.write_text(result.stdout)
            result.stdout = ""
            return result

        one: Row | None = None
        if "kustomize_one" in want:
            if n > args.kustomize_one_max:
                one = self.skip(rows, "kustomize_one", f"N > --kustomize-one-max "
                                f"{args.kustomize_one_max}")
            else:
                one = self.repeat(rows, "kustomize_one", one_process)
        if "kustomize_per_overlay" in want:
            if len(folders) > SAMPLE:
                step = len(folders) / SAMPLE
                sample = [folders[int(k * step)] for k in range(SAMPLE)]
                note: str | None = (f"{SAMPLE} of {len(folders)} per-overlay processes timed, "
                                    f"total extrapolated linearly (x{len(folders) / SAMPLE:g})")
                info["notes"].append(note)
            else:
                sample, note = folders, None

            def per_overlay() -> Run:
                total, peak = 0.0, 0.0
                for folder in sample:
                    result = run([kubectl, "kustomize", str(folder)], folder, env,
                                 timeout=args.timeout)
                    if result.code:
                        return result
                    total += result.seconds
                    peak = max(peak, result.rss_mb)
                return Run(total * len(folders) / len(sample), peak, 0, spent=total)

            row = self.repeat(rows, "kustomize_per_overlay", per_overlay)
            if note and row.error is None:
                row.note = (row.note + "; " if row.note else "") + "extrapolated"
        if one is not None and one.error is None and one.seconds and n <= args.verify_max:
            same, detail = compare_objects(rendered, out_file)
            info["kustomizeSameObjects"] = same
            info["kustomizeCompare"] = detail
            log(f"  kustomize output vs fleetgen: {'identical' if same else 'DIFFERENT'}"
                f" ({detail})")

    def measure_plain(self, rows: dict[str, Row], info: dict[str, Any], want: set[str], n: int,
                      base: Path, fg: Any) -> None:
        """The plain fleet (issue 20): fleetgen's cold render of n copies of one imported
        vSphere DHCP cluster, no overlays, and kustomize building n overlays of that cluster
        (``namePrefix`` and one JSON 6902 patch on its Cluster each) in one process. The two
        alternate run by run, so both see the same machine."""
        args = self.args
        fleet_dir, seed_dir, kz_dir = base / "plain", base / "plain-base", base / "plain-kz"
        cache = base / "plain-cache"
        out_file = base / "plain-kustomize-out.yaml"
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "XDG_CACHE_HOME": str(cache),
               "FLEETGEN_CACHE_DIR": str(cache / "fleetgen")}
        synth.generate_plain(fleet_dir, n)
        info["plainClusters"] = n
        kubectl = self.kubectl
        measured: list[tuple[str, Any, Any]] = []
        cluster_only = args.plain_kustomize_base == "cluster"
        if "plain_kustomize" in want:
            info["notes"].append("plain fleet: kustomize's base is " + (
                "the Cluster alone" if cluster_only else "every object fleetgen renders for the "
                "cluster"))

        def scratch() -> None:
            """A cold render: no rendered/, an empty render cache of the plain fleet's own."""
            shutil.rmtree(fleet_dir / "rendered", ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()

        def render() -> Run:
            """fleetgen's side; stderr kept, to tell a render that warned."""
            result: Run = fg("render", "-q", root=fleet_dir, capture=True, environ=env)
            return result

        if "plain_render" in want:
            measured.append(("plain_render", render, scratch))
        if "plain_kustomize" in want:
            if args.no_kustomize:
                pass
            elif kubectl is None:
                info["notes"].append("kubectl not found: plain-fleet kustomize row skipped")
            elif n > args.kustomize_one_max:
                self.skip(rows, "plain_kustomize",
                          f"N > --kustomize-one-max {args.kustomize_one_max}")
            else:
                synth.generate_plain(seed_dir, 1, base=True)
                seed = fg("render", "-q", root=seed_dir, environ=env)
                if seed.code != 0:
                    rows["plain_kustomize"] = Row(error=f"rendering the base cluster failed: "
                                                        f"exit {seed.code}: {seed.stderr[-300:]}")
                else:
                    info["plainKustomizeBase"] = build_plain_kustomize_tree(
                        seed_dir / "rendered", kz_dir, n, cluster_only=cluster_only)

                    def kustomize() -> Run:
                        """kustomize's side: one process, its output kept for the check."""
                        result = run([kubectl, "kustomize", str(kz_dir)], kz_dir, env,
                                     timeout=args.timeout, capture=True)
                        out_file.write_text(result.stdout)
                        result.stdout = ""
                        return result

                    measured.append(("plain_kustomize", kustomize, None))
        if not measured:
            return
        self.side_by_side(rows, measured)
        first = rows.get("plain_render")
        if first is not None and first.error is None:
            if not (fleet_dir / "rendered").is_dir():
                render()
            check = fg("validate", root=fleet_dir, capture=True, environ=env)
            warnings = [line for line in check.stderr.splitlines() if "warning[" in line]
            info["plainValidate"] = check.stdout.strip()
            if check.code or warnings:
                first.note = (f"validate exit {check.code}, {len(warnings)} warnings; the plain "
                              f"fleet should have none: {(warnings or [check.stderr])[0][:200]}")
                log(f"  plain_render: WARNING {first.note}")
        kz = rows.get("plain_kustomize")
        if kz is not None and kz.error is None and kz.seconds and n <= args.verify_max:
            if not (fleet_dir / "rendered").is_dir():
                render()
            same, detail = compare_plain(fleet_dir / "rendered", out_file, n,
                                         cluster_only=cluster_only)
            info["plainKustomizeSane"] = same
            info["plainKustomizeCompare"] = detail
            log(f"  plain fleet, kustomize output: {'as expected' if same else 'WRONG'}"
                f" ({detail})")


# --- kustomize folders -----------------------------------------------------------------------

def object_files(rendered: Path) -> list[Path]:
    """The Kubernetes object files below rendered/ (what its kustomizations list)."""
    return [p for p in sorted(rendered.rglob("*.yaml"))
            if p.name not in NOT_OBJECTS and not p.name.startswith(".")]


def _count_documents(path: Path) -> int:
    text = path.read_text()
    return 1 + text.count("\n---\n") if text.strip() else 0


def build_kustomize_tree(rendered: Path, kz: Path) -> list[Path]:
    """Plain kustomize folders for the fleet rendered WITHOUT overlays: one per cluster (its
    unpatched objects as resources, the overlays as Components), the objects outside cluster
    folders (shared pools) as plain resources, and one kustomization listing everything."""
    shutil.rmtree(kz, ignore_errors=True)
    for name, text in synth.OVERLAY_TEXT.items():
        component = kz / "components" / name
        component.mkdir(parents=True)
        (component / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" + text)
    folders: list[Path] = []
    resources: list[str] = []
    cluster_dirs = {p.parent for p in rendered.rglob("cluster.yaml")}
    for path in object_files(rendered):
        rel = path.relative_to(rendered)
        if path.parent in cluster_dirs:
            continue
        target = kz / "shared" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        resources.append(f"shared/{rel.as_posix()}")
    for folder in sorted(cluster_dirs):
        rel = folder.relative_to(rendered)
        target = kz / "clusters" / rel
        target.mkdir(parents=True)
        files = [p.name for p in object_files(folder) if p.parent == folder]
        for name in files:
            shutil.copyfile(folder / name, target / name)
        up = "../" * (len(rel.parts) + 1)
        (target / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
            + "".join(f"- {name}\n" for name in files) + "components:\n"
            + "".join(f"- {up}components/{name}\n" for name in synth.OVERLAYS))
        folders.append(target)
        resources.append(f"clusters/{rel.as_posix()}")
    (kz / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"- {r}\n" for r in resources))
    return folders


def compare_objects(rendered: Path, built: Path) -> tuple[bool, str]:
    """Are fleetgen's rendered objects (with overlays) exactly kustomize's build output?"""
    from ruamel.yaml import YAML
    yaml = YAML(typ="safe", pure=False)

    def key(doc: dict[str, Any]) -> tuple[str, ...]:
        meta = doc.get("metadata") or {}
        return (str(doc.get("apiVersion")), str(doc.get("kind")), str(meta.get("namespace", "")),
                str(meta.get("name")))

    ours = {key(d): d for p in object_files(rendered) for d in yaml.load_all(p.read_text()) if d}
    theirs = {key(d): d for d in yaml.load_all(built.read_text()) if d}
    missing, extra = ours.keys() - theirs.keys(), theirs.keys() - ours.keys()
    differ = sorted(k for k in ours.keys() & theirs.keys() if ours[k] != theirs[k])
    if not (missing or extra or differ):
        return True, f"{len(ours)} objects, all equal"
    first = (sorted(missing) or sorted(extra) or differ)[0]
    return False, (f"{len(ours)} vs {len(theirs)} objects; only fleetgen {len(missing)}, only "
                   f"kustomize {len(extra)}, different {len(differ)}; first: {'/'.join(first)}")


def _safe_yaml() -> Any:
    """ruamel's safe loader on its C parser: the benchmark's own checks, not fleetgen's code."""
    from ruamel.yaml import YAML
    return YAML(typ="safe", pure=False)


def build_plain_kustomize_tree(rendered: Path, kz: Path, n: int, *,
                               cluster_only: bool = False) -> int:
    """kustomize's side of the plain fleet: the one base cluster's rendered objects (fleetgen
    rendering ``synth.generate_plain(..., base=True)``; with ``cluster_only`` its Cluster alone,
    so kustomize builds a quarter of fleetgen's objects) as a base, and n overlays of it, each
    with a ``namePrefix`` and one JSON 6902 patch on the Cluster that sets the cluster's endpoint
    (the ``apiServerEndpoint`` variable and its annotation) and its cluster-name label, so
    kustomize's Clusters are fleetgen's; one kustomization lists every overlay. Returns the
    number of objects in the base."""
    shutil.rmtree(kz, ignore_errors=True)
    folder = rendered / synth.PLAIN_MANAGEMENT / synth.PLAIN_NAMESPACE / synth.PLAIN_BASE
    files = ["cluster.yaml"] if cluster_only else \
        [p.name for p in object_files(folder) if p.parent == folder]
    base = kz / "base"
    base.mkdir(parents=True)
    for name in files:
        shutil.copyfile(folder / name, base / name)
    (base / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"- {name}\n" for name in files))
    cluster = _safe_yaml().load((folder / "cluster.yaml").read_text())
    names = [v.get("name") for v in cluster["spec"]["topology"]["variables"]]
    endpoint_index = names.index("apiServerEndpoint")
    overlays = []
    for i in range(n):
        name, endpoint = synth.plain_name(i), synth.plain_endpoint(i)
        prefix = name.removesuffix(synth.PLAIN_BASE)
        target = kz / "clusters" / name
        target.mkdir(parents=True)
        (target / "kustomization.yaml").write_text(f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
namePrefix: {prefix}
patches:
- target:
    group: cluster.x-k8s.io
    version: v1beta1
    kind: Cluster
    name: {synth.PLAIN_BASE}
  patch: |-
    - op: replace
      path: /spec/topology/variables/{endpoint_index}/value
      value: {endpoint}
    - op: replace
      path: /metadata/annotations/tkg.tanzu.vmware.com~1cluster-controlplane-endpoint
      value: {endpoint}
    - op: replace
      path: /metadata/labels/tkg.tanzu.vmware.com~1cluster-name
      value: {name}
""")
        overlays.append(f"clusters/{name}")
    (kz / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"- {r}\n" for r in overlays))
    return sum(_count_documents(base / name) for name in files)


def compare_plain(rendered: Path, built: Path, n: int, *,
                  cluster_only: bool = False) -> tuple[bool, str]:
    """Is kustomize's build of the plain fleet what it should be: n times the base's objects,
    every name once per kind, one Cluster per fleetgen cluster with fleetgen's name, and each
    of those Clusters equal to fleetgen's (the other objects keep the base's endpoint and
    references, which the one patch on the Cluster does not reach)."""
    yaml = _safe_yaml()
    docs = [d for d in yaml.load_all(built.read_text()) if d]
    base = rendered / synth.PLAIN_MANAGEMENT / synth.PLAIN_NAMESPACE
    first = base / synth.plain_name(0)
    per_cluster = 1 if cluster_only else sum(_count_documents(p) for p in object_files(first)
                                             if p.parent == first)
    keys = [(d.get("kind"), (d.get("metadata") or {}).get("name")) for d in docs]
    clusters = {name: d for (kind, name), d in zip(keys, docs) if kind == "Cluster"}
    problems = []
    if len(docs) != n * per_cluster:
        problems.append(f"{len(docs)} objects, not {n} × {per_cluster}")
    if len(set(keys)) != len(keys):
        problems.append(f"{len(keys) - len(set(keys))} duplicate kind/name")
    expected = {synth.plain_name(i) for i in range(n)}
    if set(clusters) != expected:
        problems.append(f"{len(set(clusters) - expected)} Clusters fleetgen does not render, "
                        f"{len(expected - set(clusters))} missing")
    differ = [name for name in sorted(expected & set(clusters))
              if yaml.load((base / name / "cluster.yaml").read_text()) != clusters[name]]
    if differ:
        problems.append(f"{len(differ)} Clusters differ from fleetgen's, first {differ[0]}")
    if problems:
        return False, "; ".join(problems)
    return True, (f"{len(docs)} objects ({n} × {per_cluster}), {n} Clusters named and equal "
                  "as fleetgen renders them")


# --- report ----------------------------------------------------------------------------------

LABELS = [
    ("help", "`fleetgen --help` (start-up)", "s"),
    ("validate", "`validate`", "s"),
    ("ipam_plan", "`ipam plan`", "s"),
    ("render_full", "`render`, full, from scratch (cold)", "s"),
    ("render_full_jobs2", "`render --jobs 2`, full, from scratch", "s"),
    ("rss", "peak RSS of the cold render", "MB"),
    ("render_full_warm", "`render`, rendered/ deleted, render cache kept", "s"),
    ("render_noop", "`render`, no-op", "s"),
    ("render_check", "`render --check`", "s"),
    ("diff_one", "`diff` after a one-cluster change", "s"),
    ("diff_one_cold", ("`diff` after a one-cluster change, empty render cache (CI without a "
                       "cache)"), "s"),
    ("diff_one_ci", ("`diff` after a one-cluster change, fresh clone, render cache restored "
                     "from the base's run (CI with a cache)"), "s"),
    ("diff_pools", "`diff` after a `_defaults.yaml` edit that changes 20 pools", "s"),
    ("kustomize_one", "`kubectl kustomize`, all overlays in one process", "s"),
    ("kustomize_per_overlay", "`kubectl kustomize`, one process per overlay", "s"),
    ("speedup_one", "speed-up: kustomize one process ÷ cold render", "×"),
    ("speedup_per_overlay", "speed-up: kustomize per overlay ÷ cold render", "×"),
    ("per_cluster", "cold render per cluster", "ms"),
    ("plain_render", "plain fleet: `render`, full, from scratch (cold)", "s"),
    ("plain_kustomize", ("plain fleet: `kubectl kustomize`, one process (namePrefix + one JSON "
                         "6902 patch per cluster)"), "s"),
    ("speedup_plain", "speed-up, plain fleet: kustomize ÷ cold render", "×"),
]

# speed-up rows: (kustomize row, fleetgen row)
SPEEDUPS = {"speedup_one": ("kustomize_one", "render_full"),
            "speedup_per_overlay": ("kustomize_per_overlay", "render_full"),
            "speedup_plain": ("plain_kustomize", "plain_render")}


def value(info: dict[str, Any], key: str) -> float | None:
    rows = info.get("rows", {})
    if key == "rss":
        rss = rows.get("render_full", {}).get("peakRssMB")
        return None if rss is None else float(rss)
    full = rows.get("render_full", {}).get("median")
    if key == "per_cluster":
        return float(full) * 1000 / info["clusters"] if full else None
    if key == "diff_pools_ratio":  # the 20-pool diff ÷ the one-cluster diff
        pools, one = (rows.get(k, {}).get("median") for k in ("diff_pools", "diff_one"))
        return float(pools) / float(one) if pools and one else None
    if key in SPEEDUPS:
        other, ours = (rows.get(k, {}).get("median") for k in SPEEDUPS[key])
        return float(other) / float(ours) if other and ours else None
    median = rows.get(key, {}).get("median")
    return None if median is None else float(median)


def cell(info: dict[str, Any], key: str) -> str:
    rows = info.get("rows", {})
    sources = SPEEDUPS.get(key, ("render_full",) if key in ("rss", "per_cluster") else (key,))
    if any(rows.get(k, {}).get("error") for k in sources):
        return "failed"
    row = rows.get(sources[0], {})
    v = value(info, key)
    if v is None:
        skipped = any((rows.get(k, {}).get("note") or "").startswith("skipped")
                      for k in sources)
        return "skipped" if skipped else "–"
    text = f"{v:.0f}" if key == "rss" else f"{v:.2f}" if key in SPEEDUPS \
        else f"{v:.2f}" if key == "per_cluster" else f"{v:.3f}" if v < 10 else f"{v:.1f}"
    note = row.get("note") or ""
    if "extrapolated" in note:
        text += "*"
    if "budget" in note:
        text += f" (n={len(row.get('runs', []))})"
    if key == "validate" and info.get("validateWarnings"):
        text += f" ({info['validateWarnings']} warnings!)"
    return text


TARGETS: list[tuple[str, int | tuple[int, int] | None, str, str, float, str]] = [
    # (description, size, how to get the number, comparison, limit, unit); issue 20's table,
    # then the targets of issue 8 it does not replace
    ("`diff` after a one-cluster change ≤ 1.5 s", 5000, "diff_one", "<=", 1.5, "s"),
    ("`diff` after a `_defaults.yaml` edit touching 20 pools ≤ 2 × the one-cluster diff", 1000,
     "diff_pools_ratio", "<=", 2, "×"),
    ("`diff`, empty render cache (CI) ≤ 10 s", 5000, "diff_one_cold", "<=", 10, "s"),
    ("no-op `render` ≤ 0.5 s", 10000, "render_noop", "<=", 0.5, "s"),
    ("`render --check` ≤ 0.5 s", 10000, "render_check", "<=", 0.5, "s"),
    ("peak RSS of a cold render ≤ 250 MB", 10000, "rss", "<=", 250, "MB"),
    ("cold render ≥ 3× faster than kustomize building the same objects in one process", 1000,
     "speedup_one", ">=", 3, "×"),
    (("the same on a plain fleet (one cluster shape, no overlays; kustomize: namePrefix + one "
      "JSON 6902 patch per cluster) ≥ 2×"), 1000, "speedup_plain", ">=", 2, "×"),
    ("growth of the cold render per cluster, 1k → 10k ≤ 1.1×", (1000, 10000), "growth", "<=",
     1.1, "×"),
    ("cold render ≥ 20× faster than one kustomize process per overlay (issue 8)", 1000,
     "speedup_per_overlay", ">=", 20, "×"),
    ("`fleetgen --help` ≤ 0.3 s (issue 8)", None, "help", "<=", 0.3, "s"),
]


def targets(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for text, size, key, op, limit, unit in TARGETS:
        measured: float | None = None
        if key == "growth":
            assert isinstance(size, tuple)
            small, large = size
            a = value(results.get(small, {}), "per_cluster") if small in results else None
            b = value(results.get(large, {}), "per_cluster") if large in results else None
            measured = b / a if a and b else None
        elif size is None:  # start-up does not depend on the fleet: the median over all sizes
            runs = [s for info in results.values()
                    for s in info.get("rows", {}).get(key, {}).get("runs", [])]
            measured = statistics.median(runs) if runs else None
        elif isinstance(size, int) and size in results:
            measured = value(results[size], key)
        if measured is None:
            status = "not measured"
        else:
            status = "met" if (measured >= limit if op == ">=" else measured <= limit) \
                else "not met"
        out.append({"target": text, "size": size, "measured": measured, "unit": unit,
                    "limit": limit, "status": status})
    return out


def growth_note(results: dict[int, dict[str, Any]]) -> str | None:
    """Per-cluster full render time between consecutive sizes (informative)."""
    sizes = sorted(n for n in results if value(results[n], "per_cluster"))
    if len(sizes) < 2:
        return None
    per = {n: value(results[n], "per_cluster") or 0.0 for n in sizes}
    parts = [f"{a:,} → {b:,}: ×{per[b] / per[a]:.2f}" for a, b in itertools.pairwise(sizes)]
    return "Full render time per cluster, growth between sizes (1.00 = linear): " + \
        ", ".join(parts)


def markdown(meta: dict[str, Any], results: dict[int, dict[str, Any]],
             goals: list[dict[str, Any]]) -> str:
    sizes = sorted(results)
    lines = [(f"fleetgen fleet benchmark — {meta['date']}, commit {meta['commit']}, "
              f"{meta['cpus']} CPUs (load {meta['loadAverageAtStart']} at start), Python "
              f"{meta['python']}, {meta['kubectl'] or 'no kubectl'}; median of {meta['runs']} "
              "runs"), ""]
    lines.append("| measurement | unit | " + " | ".join(f"N = {n:,}" for n in sizes) + " |")
    lines.append("|---|---|" + "---|" * len(sizes))
    for field_, label in (("clusters", "clusters"), ("renderedFiles", "rendered files"),
                          ("objects", "Kubernetes objects")):
        lines.append(f"| {label} | | " + " | ".join(_count(results[n].get(field_))
                                                   for n in sizes) + " |")
    for key, label, unit in LABELS:
        lines.append(f"| {label} | {unit} | " + " | ".join(cell(results[n], key) for n in sizes)
                     + " |")
    lines.append("")
    notes = [("\\* extrapolated linearly from 50 per-overlay processes; (n=k): fewer runs "
              "than asked, --budget reached.")]
    for n in sizes:
        info = results[n]
        failed = [f"{k}: {r['error']}" for k, r in info.get("rows", {}).items() if r.get("error")]
        noted = [f"{k}: {r['note']}" for k, r in info.get("rows", {}).items()
                 if r.get("note") and ("skipped" in r["note"] or "WARNING" in r["note"]
                                       or "warnings" in r["note"] or "does not" in r["note"])]
        chosen = info.get("rowsSelected")
        extra = [f"rows: {', '.join(chosen)}" if chosen is not None and len(chosen) < len(ROWS)
                 else None,
                 f"validate: {info['validate']}" if "validate" in info else None,
                 f"{info['validateWarnings']} validate warnings" if info.get("validateWarnings")
                 else None,
                 f"kustomize output equals fleetgen's: {info['kustomizeCompare']}"
                 if "kustomizeCompare" in info else None,
                 f"diff edit: {info['diffEdit']}" if "diffEdit" in info else None,
                 f"20-pool diff edit: {info['diffPoolsEdit']}" if "diffPoolsEdit" in info
                 else None,
                 f"plain fleet validate: {info['plainValidate']}" if "plainValidate" in info
                 else None,
                 f"plain fleet, kustomize built: {info['plainKustomizeCompare']}"
                 if "plainKustomizeCompare" in info else None]
        text = "; ".join([x for x in extra if x] + info.get("notes", []) + noted + failed)
        fleet = (f"{info['managementClusters']} management clusters, {info['namespaces']} "
                 f"namespaces, {info['nodePools']} node pools; ") if info["managementClusters"] \
            else ""
        notes.append(f"N = {n:,}: {fleet}{text}")
    growth = growth_note(results)
    if growth:
        notes.append(growth)
    lines += [f"- {note}" for note in notes]
    lines += ["", "| target | N | measured | status |", "|---|---|---|---|"]
    for g in goals:
        size = g["size"]
        where = "all" if size is None else f"{size[0]:,} → {size[1]:,}" \
            if isinstance(size, tuple) else f"{size:,}"
        v, unit = g["measured"], g["unit"]
        m = "–" if v is None else f"{v:.0f} MB" if unit == "MB" else f"{v:.2f} ×" \
            if unit == "×" else f"{v:.3f} s" if v < 10 else f"{v:.1f} s"
        lines.append(f"| {g['target']} | {where} | {m} | {g['status']} |")
    return "\n".join(lines) + "\n"


def _count(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "–"


def find_kubectl(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    local = REPO / ".tools" / "bin" / "kubectl"  # the pinned one (scripts/install-kubectl)
    return str(local) if local.is_file() else shutil.which("kubectl")


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "generator",
                                "pyproject.toml"], cwd=REPO, capture_output=True,
                               text=True, check=False).stdout.strip()
        return head + ("+uncommitted generator changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_rows(specs: list[str]) -> dict[int | None, set[str]]:
    """--rows values, each ``[SIZE=]NAME,NAME…`` (a row of ``ROWS`` or a group of
    ``ROW_GROUPS``), as the rows to measure per size (None: every size not named), so a run can
    spend its time where each target is measured."""
    out: dict[int | None, set[str]] = {}
    for spec in specs:
        size_text, _, names = spec.rpartition("=")
        size = int(size_text.replace("_", "").replace(",", "")) if size_text else None
        chosen = out.setdefault(size, set())
        for name in (x.strip() for x in names.split(",")):
            if name in ROW_GROUPS:
                chosen.update(ROW_GROUPS[name])
            elif name in ROWS:
                chosen.add(name)
            elif name:
                raise ValueError(f"unknown row {name!r} (rows: {', '.join(ROWS)}; groups: "
                                 f"{', '.join(ROW_GROUPS)})")
        if not chosen:
            raise ValueError(f"--rows {spec!r} names no row")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See docs/performance.md.")
    parser.add_argument("--sizes", help="comma-separated fleet sizes (default "
                        f"{','.join(map(str, DEFAULT_SIZES))})")
    parser.add_argument("--runs", type=int, help="runs per measurement; the median is reported "
                        "(default 5, --quick 3)")
    parser.add_argument("--quick", action="store_true",
                        help=f"sizes {','.join(map(str, QUICK_SIZES))} and 3 runs")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="stop repeating a row once its runs took this many seconds "
                        "(default 120; at least one run)")
    parser.add_argument("--markdown", type=Path, help="also write the markdown table here")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--fleetgen", type=Path, default=REPO / ".venv" / "bin" / "fleetgen")
    parser.add_argument("--kubectl",
                        help="kubectl to time (default: .tools/bin/kubectl, then PATH)")
    parser.add_argument("--rows", action="append", default=[], metavar="[SIZE=]ROWS",
                        help="measure only these rows (comma-separated row names or groups: "
                        f"{', '.join(ROW_GROUPS)}), at SIZE or at every size not named; "
                        "repeatable, e.g. --rows 10000=noop,rss --rows 5000=diff. Without "
                        "--sizes, the sizes named here")
    parser.add_argument("--no-kustomize", action="store_true", help="skip the kustomize rows")
    parser.add_argument("--kustomize-one-max", type=int, default=KUSTOMIZE_ONE_MAX,
                        help="largest size at which kustomize builds a whole fleet in one "
                        f"process (default {KUSTOMIZE_ONE_MAX}; it took 11 min at 10,000)")
    parser.add_argument("--plain-kustomize-base", choices=("all", "cluster"), default="all",
                        help="the plain fleet's kustomize base: all the cluster's rendered "
                        "objects, as fleetgen renders them (default), or its Cluster alone")
    parser.add_argument("--verify-max", type=int, default=1000,
                        help="compare kustomize's objects with fleetgen's up to this size "
                        "(default 1000)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds one process may take (default 1800)")
    parser.add_argument("--tmp", type=Path, help="where the temporary fleets go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary fleets")
    args = parser.parse_args()
    try:
        args.rows_by_size = parse_rows(args.rows)
    except ValueError as exc:
        parser.error(str(exc))
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    elif args.rows_by_size and None not in args.rows_by_size:
        sizes = sorted(n for n in args.rows_by_size if n is not None)
    else:
        sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    args.runs = args.runs or (3 if args.quick else 5)
    if args.runs < 1 or not sizes or min(sizes) < 1:
        parser.error("--runs and --sizes must be positive")
    if not Path(args.fleetgen).is_file():
        parser.error(f"{args.fleetgen} not found (python3 -m venv .venv && .venv/bin/pip "
                     "install -e .)")
    args.kubectl = find_kubectl(args.kubectl)
    kubectl_version = None
    if args.kubectl and not args.no_kustomize:
        try:
            version = subprocess.run([args.kubectl, "version", "--client"], capture_output=True,
                                     text=True, timeout=60, check=False).stdout
            kubectl_version = " ".join(line.split(":", 1)[1].strip() for line in
                                       version.splitlines() if ":" in line)
            kubectl_version = f"kubectl/kustomize {kubectl_version}"
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"kubectl unusable ({exc}): kustomize rows skipped")
            args.kubectl = None
    meta = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": git_commit(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "kubectl": kubectl_version, "runs": args.runs,
            "budgetSeconds": args.budget, "sizes": sizes, "fleetgen": str(args.fleetgen),
            "loadAverageAtStart": round(os.getloadavg()[0], 2)}
    bench = Bench(args)
    started = time.perf_counter()
    interrupted = False
    for n in sizes:
        log(f"N={n}: start")
        try:
            bench.results[n] = bench.measure(n)
        except KeyboardInterrupt:
            log("interrupted: reporting what was measured")
            interrupted = True
            break
        except Exception as exc:  # noqa: BLE001 - report the other sizes anyway
            log(f"N={n}: FAILED: {type(exc).__name__}: {exc}")
            bench.results[n] = {"clusters": n, "managementClusters": 0, "namespaces": 0,
                                "nodePools": 0, "rows": {}, "notes": [],
                                "error": f"{type(exc).__name__}: {exc}"}
    meta["seconds"] = round(time.perf_counter() - started, 1)
    goals = targets(bench.results)
    text = markdown(meta, bench.results, goals)
    sys.stdout.write(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": {str(n): r for n, r in
                                                                   bench.results.items()},
                                         "targets": goals}, indent=2, default=str) + "\n")
    log(f"done in {meta['seconds']:.0f} s")
    failed = any(r.get("error") or r.get("validateWarnings")
                 or any(x.get("error") for x in r.get("rows", {}).values())
                 for r in bench.results.values())
    return 130 if interrupted else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
