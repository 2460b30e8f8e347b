"""Benchmark: fleetgen on synthetic fleets of N clusters, against kustomize building the same
objects (issue 8). See docs/performance.md for what each row means and the targets.

    .venv/bin/python bench/fleet.py                      # sizes 100, 1000, 5000, 10000; 5 runs
    .venv/bin/python bench/fleet.py --quick              # sizes 100 and 1000; 3 runs
    .venv/bin/python bench/fleet.py --sizes 1000,5000 --runs 3 \
        --markdown perf.md --json perf.json

Each size is generated into a temporary folder (``bench/synth.py``: vSphere DHCP and node IPAM,
IPv6-only, dual-stack, AWS, Azure, over several management clusters and namespaces, every
cluster with the overlays ``sizing`` and ``labels``). Every fleetgen command runs as a subprocess
of ``.venv/bin/fleetgen`` and is timed wall-clock; each row is the median of ``--runs`` runs (fewer
when one row's runs have used up ``--budget`` seconds; the table says so). Peak RSS is each
process's own ``ru_maxrss`` (``os.wait4``). The kustomize rows build the same objects from plain
kustomize folders (the fleet rendered without overlays, plus the overlays as kustomize
Components) with ``kubectl kustomize``; per-overlay processes are timed on a sample of 50 and
extrapolated linearly for larger fleets.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
            try:
                if before is not None:
                    before()
                result = once()
            except Exception as exc:  # noqa: BLE001 - a broken row must not stop the others
                row.error = f"{type(exc).__name__}: {exc}"
                break
            if result.code not in expect:
                tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
                row.error = f"exit {result.code}: {' | '.join(tail)[:300]}"
                break
            row.seconds.append(result.seconds)
            row.rss_mb.append(result.rss_mb)
            spent += result.seconds if result.spent is None else result.spent
        shown = f"{row.median:.3f} s" if row.median is not None else f"FAILED ({row.error})"
        log(f"  {key}: {shown}" + (f" [{row.note}]" if row.note else ""))
        return row

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
        fleet_dir, plain_dir, kz_dir, cache = (base / "fleet", base / "plain", base / "kustomize",
                                               base / "cache")
        start = time.perf_counter()
        fleet = synth.generate(fleet_dir, n)
        synth.generate(plain_dir, n, overlays=False)
        log(f"N={n}: generated in {time.perf_counter() - start:.1f} s under {base} "
            f"({len(fleet.management_clusters)} management clusters, {len(fleet.namespaces)} "
            f"namespaces, {fleet.pools} node pools)")
        # fleetgen's render cache (if this version has one) goes to a folder of this run, so
        # "from scratch" can clear it and no run reuses the developer's own cache
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "XDG_CACHE_HOME": str(cache),
               "FLEETGEN_CACHE_DIR": str(cache / "fleetgen")}
        cache.mkdir()
        snapshot = set(os.listdir(fleet_dir))
        rows: dict[str, Row] = {}
        info: dict[str, Any] = {
            "clusters": fleet.clusters, "kinds": fleet.kinds,
            "managementClusters": len(fleet.management_clusters),
            "namespaces": len(fleet.namespaces), "nodePools": fleet.pools, "notes": []}
        t = args.timeout

        def fg(*argv: str, root: Path = fleet_dir, capture: bool = False) -> Run:
            return run(self.fleetgen_cmd(*argv), root, env, timeout=t, capture=capture)

        def scratch() -> None:
            """From scratch: no rendered/, nothing else fleetgen left in the fleet, no cache."""
            for entry in set(os.listdir(fleet_dir)) - snapshot - {".git"}:
                path = fleet_dir / entry
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            shutil.rmtree(fleet_dir / "rendered", ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()

        fg("--help")  # warm-up, untimed: byte-compiles modules edited since the last run
        self.repeat(rows, "help", lambda: fg("--help"))
        validate = self.repeat(rows, "validate", lambda: fg("validate", capture=True))
        if validate.error is None:
            check = fg("validate", capture=True)
            info["validate"] = check.stdout.strip()
            warnings = [line for line in check.stderr.splitlines() if "warning[" in line]
            info["validateWarnings"] = len(warnings)
            log(f"  validate says: {check.stdout.strip()}; {len(warnings)} warnings")
        self.repeat(rows, "ipam_plan", lambda: fg("ipam", "plan"))
        self.repeat(rows, "render_full", lambda: fg("render", "-q"), before=scratch)
        self.repeat(rows, "render_full_jobs2", lambda: fg("render", "-q", "--jobs", "2"),
                    before=scratch)
        fg("render", "-q")  # fills the cache (if any) for the warm row
        self.repeat(rows, "render_full_warm", lambda: fg("render", "-q"),
                    before=lambda: shutil.rmtree(fleet_dir / "rendered", ignore_errors=True))
        rendered = fleet_dir / "rendered"
        if not (rendered.is_dir() and any(rendered.iterdir())):  # every full render failed
            fg("render", "-q")
        files = [p for p in rendered.rglob("*") if p.is_file()
                 and not p.name.startswith(".fleetgen")]
        info["renderedFiles"] = len(files)
        self.repeat(rows, "render_noop", lambda: fg("render", "-q"))
        self.repeat(rows, "render_check", lambda: fg("render", "--check", "-q"))
        self.measure_diff(rows, info, fleet, fg, env, cache)

        objects = object_files(rendered)
        info["objects"] = sum(_count_documents(p) for p in objects)
        if self.kubectl and not args.no_kustomize:
            self.measure_kustomize(rows, info, plain_dir, kz_dir, rendered, fg, env, n)
        elif not args.no_kustomize:
            info["notes"].append("kubectl not found: kustomize rows skipped")
        info["rows"] = {key: {"median": row.median, "runs": row.seconds, "rssMB": row.rss_mb,
                              "peakRssMB": row.peak_rss, "error": row.error, "note": row.note}
                        for key, row in rows.items()}
        return info

    def measure_diff(self, rows: dict[str, Row], info: dict[str, Any], fleet: synth.Fleet,
                     fg: Any, env: dict[str, str], cache: Path) -> None:
        """``fleetgen diff`` (working-tree mode) in a git repository holding the rendered fleet,
        after one cluster's inventory changed (md-0 of a DHCP cluster scaled by one); with the
        render cache as the renders before left it (a developer's machine), and empty (CI)."""
        root = fleet.root
        target = fleet.edit_target
        if target is None:
            rows["diff_one"] = Row(error="no DHCP cluster to edit in this fleet")
            return
        try:
            git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                   "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]
            for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "rendered fleet"]):
                subprocess.run(git + argv, cwd=root, env=env, check=True, capture_output=True)
            text = target.read_text()
            edited, count = re.subn(r"replicas: (\d+)",
                                    lambda m: f"replicas: {int(m.group(1)) + 1}", text, count=1)
            if not count:
                raise RuntimeError(f"no replicas line in {target}")
            target.write_text(edited)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            rows["diff_one"] = Row(error=f"git setup failed: {exc}")
            log(f"  diff_one: FAILED ({exc})")
            return
        info["diffEdit"] = f"{target.relative_to(root).as_posix()}: md-0 replicas + 1"
        row = self.repeat(rows, "diff_one", lambda: fg("diff", "-q", capture=True), expect=(1,))

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()

        self.repeat(rows, "diff_one_cold", lambda: fg("diff", "-q"), expect=(1,),
                    before=empty_cache)
        if row.error is None:
            out = fg("diff", "-q", capture=True)
            if target.stem not in out.stdout:
                row.note = "diff output does not name the edited cluster"
                log(f"  diff_one: WARNING {row.note}")
        target.write_text(text)
        self.measure_diff_pools(rows, info, root, fg)

    def measure_diff_pools(self, rows: dict[str, Row], info: dict[str, Any], root: Path,
                           fg: Any, pools: int = 20) -> None:
        """``fleetgen diff`` after ``_defaults.yaml`` edits that change ``pools`` node pools'
        addresses (each pool's range loses its last address; the synthetic fleet declares one
        pool per ``ipam/<pool>/_defaults.yaml``), the render cache as the renders left it."""
        files = sorted((root / "clusters").rglob("ipam/*/_defaults.yaml"))[:pools]
        if len(files) < pools:
            rows["diff_pools"] = Row(error=f"only {len(files)} pool files in this fleet")
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

    def measure_kustomize(self, rows: dict[str, Row], info: dict[str, Any], plain_dir: Path,
                          kz_dir: Path, rendered: Path, fg: Any, env: dict[str, str],
                          n: int) -> None:
        args = self.args
        plain = fg("render", "-q", "--jobs", "2", root=plain_dir)
        if plain.code != 0:
            rows["kustomize_one"] = Row(error=f"rendering the fleet without overlays failed: "
                                              f"exit {plain.code}: {plain.stderr[-300:]}")
            return
        folders = build_kustomize_tree(plain_dir / "rendered", kz_dir)
        info["kustomizeOverlays"] = len(folders)
        out_file = kz_dir.parent / "kustomize-out.yaml"
        kubectl = self.kubectl

        def one_process() -> Run:
            result = run([kubectl, "kustomize", str(kz_dir)], kz_dir, env, timeout=args.timeout,
                         capture=True)
            out_file.write_text(result.stdout)
            result.stdout = ""
            return result

        one = self.repeat(rows, "kustomize_one", one_process)
        if len(folders) > SAMPLE:
            step = len(folders) / SAMPLE
            sample = [folders[int(k * step)] for k in range(SAMPLE)]
            note = (f"{SAMPLE} of {len(folders)} per-overlay processes timed, total "
                    f"extrapolated linearly (x{len(folders) / SAMPLE:g})")
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
        if one.error is None and n <= args.verify_max:
            same, detail = compare_objects(rendered, out_file)
            info["kustomizeSameObjects"] = same
            info["kustomizeCompare"] = detail
            log(f"  kustomize output vs fleetgen: {'identical' if same else 'DIFFERENT'}"
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


# --- report ----------------------------------------------------------------------------------

LABELS = [
    ("help", "`fleetgen --help` (start-up)", "s"),
    ("validate", "`validate`", "s"),
    ("ipam_plan", "`ipam plan`", "s"),
    ("render_full", "`render`, full, from scratch", "s"),
    ("render_full_jobs2", "`render --jobs 2`, full, from scratch", "s"),
    ("rss", "peak RSS of the full render", "MB"),
    ("render_full_warm", "`render`, rendered/ deleted, render cache kept", "s"),
    ("render_noop", "`render`, no-op", "s"),
    ("render_check", "`render --check`", "s"),
    ("diff_one", "`diff` after a one-cluster change", "s"),
    ("diff_one_cold", "`diff` after a one-cluster change, empty render cache", "s"),
    ("diff_pools", "`diff` after a `_defaults.yaml` edit that changes 20 pools", "s"),
    ("kustomize_one", "`kubectl kustomize`, all overlays in one process", "s"),
    ("kustomize_per_overlay", "`kubectl kustomize`, one process per overlay", "s"),
    ("speedup_one", "speed-up: kustomize one process ÷ full render", "×"),
    ("speedup_per_overlay", "speed-up: kustomize per overlay ÷ full render", "×"),
    ("per_cluster", "full render per cluster", "ms"),
]


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
    if key.startswith("speedup_"):
        other = rows.get("kustomize_" + key.removeprefix("speedup_"), {}).get("median")
        return float(other) / full if other and full else None
    median = rows.get(key, {}).get("median")
    return None if median is None else float(median)


def cell(info: dict[str, Any], key: str) -> str:
    row = info.get("rows", {}).get("render_full" if key == "rss" else key, {})
    if row.get("error"):
        return "failed"
    v = value(info, key)
    if v is None:
        return "–"
    text = f"{v:.0f}" if key == "rss" else f"{v:.2f}" if key.startswith("speedup_") \
        else f"{v:.2f}" if key == "per_cluster" else f"{v:.3f}" if v < 10 else f"{v:.1f}"
    note = row.get("note") or ""
    if "extrapolated" in note:
        text += "*"
    if "budget" in note:
        text += f" (n={len(row.get('runs', []))})"
    return text


TARGETS = [
    # (description, size, how to get the number, comparison, limit, unit)
    ("full render ≥ 2× faster than kustomize in one process", 1000, "speedup_one", ">=", 2,
     "×"),
    ("full render ≥ 20× faster than kustomize one process per overlay", 1000,
     "speedup_per_overlay", ">=", 20, "×"),
    ("no-op `render` ≤ 0.3 s", 1000, "render_noop", "<=", 0.3, "s"),
    ("`render --check` ≤ 0.3 s", 1000, "render_check", "<=", 0.3, "s"),
    ("`diff` after a one-cluster change ≤ 1.5 s", 5000, "diff_one", "<=", 1.5, "s"),
    ("`diff` after a one-cluster change ≤ 1.5 s, empty render cache (CI)", 5000, "diff_one_cold",
     "<=", 1.5, "s"),
    ("`diff` after a `_defaults.yaml` edit that changes 20 pools ≤ 2 × `diff` after a "
     "one-cluster change", 1000, "diff_pools_ratio", "<=", 2, "×"),
    ("peak RSS ≤ 300 MB", 10000, "rss", "<=", 300, "MB"),
    ("`fleetgen --help` ≤ 0.3 s", None, "help", "<=", 0.3, "s"),
    ("time grows linearly with N, 1k → 10k (full render per cluster at 10k ≤ 1.25 × at 1k)",
     (1000, 10000), "growth", "<=", 1.25, "×"),
]


def targets(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for text, size, key, op, limit, unit in TARGETS:
        measured: float | None = None
        if key == "growth":
            small, large = size  # type: ignore[misc]
            a = value(results.get(small, {}), "per_cluster") if small in results else None
            b = value(results.get(large, {}), "per_cluster") if large in results else None
            measured = b / a if a and b else None
        elif size is None:  # start-up does not depend on the fleet: the median over all sizes
            runs = [s for info in results.values()
                    for s in info.get("rows", {}).get(key, {}).get("runs", [])]
            measured = statistics.median(runs) if runs else None
        elif size in results:
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
    parts = [f"{a:,} → {b:,}: ×{per[b] / per[a]:.2f}" for a, b in zip(sizes, sizes[1:])]
    return "Full render time per cluster, growth between sizes (1.00 = linear): " + \
        ", ".join(parts)


def markdown(meta: dict[str, Any], results: dict[int, dict[str, Any]],
             goals: list[dict[str, Any]]) -> str:
    sizes = sorted(results)
    lines = [f"fleetgen fleet benchmark — {meta['date']}, commit {meta['commit']}, "
             f"{meta['cpus']} CPUs (load {meta['loadAverageAtStart']} at start), Python "
             f"{meta['python']}, {meta['kubectl'] or 'no kubectl'}; median of {meta['runs']} runs",
             ""]
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
    notes = ["\\* extrapolated linearly from 50 per-overlay processes; (n=k): fewer runs than "
             "asked, --budget reached."]
    for n in sizes:
        info = results[n]
        failed = [f"{k}: {r['error']}" for k, r in info.get("rows", {}).items() if r.get("error")]
        extra = [f"validate: {info['validate']}" if "validate" in info else None,
                 f"kustomize output equals fleetgen's: {info['kustomizeCompare']}"
                 if "kustomizeCompare" in info else None,
                 f"diff edit: {info['diffEdit']}" if "diffEdit" in info else None,
                 f"20-pool diff edit: {info['diffPoolsEdit']}" if "diffPoolsEdit" in info
                 else None]
        text = "; ".join([x for x in extra if x] + failed)
        notes.append(f"N = {n:,}: {info['managementClusters']} management clusters, "
                     f"{info['namespaces']} namespaces, {info['nodePools']} node pools; {text}")
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
                               text=True).stdout.strip()
        return head + ("+uncommitted generator changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


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
    parser.add_argument("--no-kustomize", action="store_true", help="skip the kustomize rows")
    parser.add_argument("--verify-max", type=int, default=1000,
                        help="compare kustomize's objects with fleetgen's up to this size "
                        "(default 1000)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds one process may take (default 1800)")
    parser.add_argument("--tmp", type=Path, help="where the temporary fleets go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary fleets")
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
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
                                     text=True, timeout=60).stdout
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
    failed = any(r.get("error") or any(x.get("error") for x in r.get("rows", {}).values())
                 for r in bench.results.values())
    return 130 if interrupted else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
