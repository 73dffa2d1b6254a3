"""The release build: verified cache -> staged trees -> checked RPMs in ``dist/``.

Incremental: every RPM has a fingerprint of all it is made from (its spec text, the
sha256 of the artifacts it uses, the code that makes it, the build options); an RPM whose
fingerprint is unchanged is not rebuilt, and nothing is staged for it. The fingerprints
live in ``dist/.fate-pkg-build.json``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import packager.assemble
import packager.rpm
import packager.stage
from packager import __version__, resources, ui
from packager.assemble import space
from packager.assemble.isolate import netns_available
from packager.assemble.specs import BuildSpec, load_specs, to_package
from packager.assemble.stage import STAGED_DIRS, Stager
from packager.assemble.steps import BYTECODE, PYTHON_ENV, STEPS, StepContext, closure
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.filestate import digest_record, load_state, save_state, sha256_file
from packager.release import Release, releases_for
from packager.rpm import BuildResult, Compression, Package, Signer, build_rpm
from packager.rpm.split import BUDGET, split_package
from packager.rpm.writer import BuildError, check_sources, clean_stale_temporaries
from packager.stage.abi import check_tree, report, scan

STATE_FILE = ".fate-pkg-build.json"
#: Code whose change must rebuild everything it produces.
_CODE_PACKAGES = (packager.rpm, packager.assemble, packager.stage)


@dataclass
class BuildOptions:
    release: str
    cache: Cache
    out_dir: Path
    sample: bool = False
    specs_dir: Path = field(default_factory=lambda: resources.specs() / "packages")
    jobs: int = 0
    compression: Compression = field(default_factory=lambda: Compression("xz", 6))
    signer: Signer | None = None
    sde: int | None = None
    account: tuple[str, str] = ("app", "apps")
    build_release: str = "1"
    allow_abi: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    progress: bool = False


@dataclass
class Outcome:
    name: str
    path: Path
    status: str  # "built" | "up to date"
    result: BuildResult | None = None


@dataclass
class BuildReport:
    release: Release
    outcomes: list[Outcome]
    seconds: float
    isolated: bool
    #: wall seconds of each phase that ran: stage, abi, rpm (writing), lint; for --json and
    #: the per-file costs in bench/scale.py
    phases: dict[str, float] = field(default_factory=dict)


def ensure_sample(releases: list[Release], cache: Cache) -> None:
    """Generate the built-in sample release into the cache (nothing to download)."""
    from packager.sample import generate

    sample = releases[0]
    if not any(cache.lookup(a) is None for a in sample.artifacts):
        return
    with tempfile.TemporaryDirectory(prefix="fate-sample-") as tmp:
        for path in generate(Path(tmp)):
            cache.add(path, sample.artifact(path.name))


def _inputs(releases: list[Release], cache: Cache, names: set[str]) -> list[Path]:
    """The cached files of the artifacts ``names`` (of the release or its includes)."""
    found = (cache.lookup(a) for r in releases for a in r.artifacts if a.name in names)
    return sorted({p for p in found if p is not None})


def _artifacts_of(spec: BuildSpec, contexts: dict[str, StepContext]) -> set[str]:
    """Names of the artifacts one spec's RPM is made from: its files' and its steps' (and
    theirs: the steps their inputs name)."""
    used = set(spec.artifacts)
    for step in closure(spec.steps, contexts):  # unknown steps: the stager names them
        used |= STEPS[step].inputs(contexts[step]).artifacts
    return used


def missing_artifacts(releases: list[Release], cache: Cache) -> list[str]:
    return [f"{r.release}/{a.name}" for r in releases for a in r.artifacts
            if cache.lookup(a) is None]


def run_build(opts: BuildOptions, on_event: Callable[[str, str], None] | None = None
              ) -> BuildReport:
    started = time.monotonic()
    note = on_event or (lambda kind, msg: None)
    opts.out_dir = opts.out_dir.absolute()  # staged sources are handed on as absolute paths
    releases = releases_for(opts.release)
    release = releases[0]
    if opts.sample:
        if release.generated_by is None:
            raise UserError(f"--sample: {release.release} is not a generated sample release")
        ensure_sample(releases[:1], opts.cache)
    missing = missing_artifacts(releases, opts.cache)
    if missing:
        raise UserError(
            f"the cache {opts.cache.root} lacks {len(missing)} artifact(s): "
            f"{', '.join(missing)}; run `fate-pkg fetch --release {release.release}` "
            "on a connected host first")
    variables = {"version": release.version, "release": opts.build_release,
                 "user": opts.account[0], "group": opts.account[1]}
    specs = load_specs(opts.specs_dir, variables)
    sde = opts.sde if opts.sde is not None else release.source_date_epoch
    # from every spec, --only or not: the spec built may use a step another configures
    # (fate-flow's byte code needs the Python env fate-python's spec describes)
    contexts = step_contexts(specs, releases, opts, sde)
    if opts.only:
        unknown = set(opts.only) - {s.name for s in specs}
        if unknown:
            raise UserError(f"--only: no package spec named {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s.name in opts.only]
    created = not opts.out_dir.exists()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(opts.out_dir)
    for stale in opts.out_dir.glob(".fate-pkg-work-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    state = load_state(opts.out_dir / STATE_FILE)
    fingerprints = {s.name: _fingerprint(s, releases, contexts, opts, sde) for s in specs}
    todo = [s for s in specs if not _up_to_date(state, s.name, fingerprints[s.name],
                                                opts.out_dir)]
    outcomes = {name: Outcome(name, opts.out_dir / state[name]["file"], "up to date")
                for s in specs if s not in todo for name in _rpm_names(state, s.name)}
    phases: dict[str, float] = {}
    if todo:
        # what is built now (--only, or the specs that changed), not the whole release
        names = set().union(*(_artifacts_of(s, contexts) for s in todo))
        need, inputs = space.estimate(_inputs(releases, opts.cache, names),
                                      python_env=any(PYTHON_ENV in closure(s.steps, contexts)
                                                      for s in todo))
        try:
            space.require(opts.out_dir, need, inputs)
        except UserError:
            if created:  # refused before anything was written: not even the directory
                opts.out_dir.rmdir()
            raise
        # Everything is written inside a work directory and moved into dist/ only when every
        # RPM is done: an interrupted or failed build leaves dist/ exactly as it was.
        work = Path(tempfile.mkdtemp(prefix=".fate-pkg-work-", dir=opts.out_dir))
        cleaner: subprocess.Popen | None = None
        try:
            with space.full_disk_reported(opts.out_dir, need, inputs):
                digests: dict[str, dict] = {}
                built = _build(todo, releases, contexts, opts, sde, work, note, phases,
                               digests)
                # The staged trees are not read again (the lint reads the RPMs): remove them
                # beside the lint rather than after it (10^5 unlinks took 8 s at scale 0.1),
                # in a process of their own: a thread of ours doing them took the GIL back
                # 10^5 times from the lint (scale 1: lint 31 -> 76 s).
                cleaner = _remove_staged(work)
                current = [r.path for rs in built.values() for r in rs] + \
                    [o.path for o in outcomes.values()]
                t0 = time.monotonic()
                # with --only, the release's other RPMs in dist/ belong to the set too: the
                # lint's cross-package rules (one preset for every unit) need them
                _lint(current + _others_in_dist(state, specs, opts.out_dir), opts, note)
                phases["lint"] = time.monotonic() - t0
            for spec_name, results in built.items():
                kept = {r.path.name for r in results}
                for old_name in _rpm_names(state, spec_name):
                    old = state.pop(old_name, {}).get("file")
                    if old and old not in kept:
                        (opts.out_dir / old).unlink(missing_ok=True)
                for i, result in enumerate(results):
                    final = opts.out_dir / result.path.name
                    os.replace(result.path, final)
                    entry = {"file": final.name, "fingerprint": fingerprints[spec_name],
                             **digests.get(final.name, {})}
                    if i == 0:
                        entry["parts"] = [r.name for r in results[1:]]
                    else:
                        entry["part_of"] = spec_name
                    state[result.name] = entry
                    outcomes[result.name] = Outcome(result.name, final, "built", result)
            save_state(opts.out_dir / STATE_FILE, state)
        finally:
            if cleaner is not None:
                cleaner.wait()
            shutil.rmtree(work, ignore_errors=True)
    return BuildReport(release, [outcomes[n] for s in specs for n in _rpm_names(state, s.name)],
                       time.monotonic() - started, netns_available(), phases)


def _remove_staged(work: Path) -> subprocess.Popen:
    """Start removing every staged tree of ``work`` (extracted archives, build steps' trees;
    not the RPMs): moved aside at once, deleted by ``rm -rf`` in the background."""
    trash = Path(tempfile.mkdtemp(prefix="staged-", dir=work))
    for name in STAGED_DIRS:
        if (work / name).exists():
            os.rename(work / name, trash / name)
    return subprocess.Popen(["rm", "-rf", "--", str(trash)], stdin=subprocess.DEVNULL)


def _rpm_names(state: dict, spec_name: str) -> list[str]:
    """The RPMs one spec made: itself, then the parts its header budget split off."""
    return [spec_name, *state.get(spec_name, {}).get("parts", [])]


def _others_in_dist(state: dict, specs: list[BuildSpec], out_dir: Path) -> list[Path]:
    names = {s.name for s in specs}
    files = (out_dir / entry["file"] for name, entry in sorted(state.items())
             if name not in names and isinstance(entry, dict) and "file" in entry
             and entry.get("part_of") not in names)  # a part goes with its parent
    return [path for path in files if path.is_file()]


def step_contexts(specs: list[BuildSpec], releases: list[Release],
                  opts: BuildOptions, sde: int | None = None) -> dict[str, StepContext]:
    """Each build step's context; its config is the ``stage:`` block that names it.

    A step configured by two specs differently would build a different tree depending on
    which spec is built: refused. The bytecode step's config is every spec's trees marked
    ``bytecode: true``.
    """
    config: dict[str, tuple[str, dict]] = {}
    for spec in specs:
        for name, cfg in (spec.data.get("stage") or {}).items():
            if name not in STEPS:
                raise UserError(f"{spec.path}: stage.{name}: no such build step (known: "
                                f"{', '.join(sorted(STEPS))})")
            if name in config and config[name][1] != cfg:
                raise UserError(f"{spec.path}: stage.{name} differs from the one in "
                                f"{config[name][0]}; configure a step in one spec")
            config[name] = (str(spec.path), cfg)
    trees = sorted((t for s in specs for t in s.bytecode_trees), key=lambda t: t["dst"])
    if trees:
        if BYTECODE in config:
            raise UserError(f"{config[BYTECODE][0]}: stage.{BYTECODE} is made from the "
                            "file entries marked bytecode: true; it takes no stage block")
        config[BYTECODE] = ("", {"trees": trees})
    return {name: StepContext(releases, config.get(name, ("", {}))[1], opts.account,
                              releases[0].version, sde) for name in STEPS}


def _build(todo: list[BuildSpec], releases: list[Release], contexts: dict[str, StepContext],
           opts: BuildOptions, sde: int | None, work: Path,
           note: Callable[[str, str], None], phases: dict[str, float],
           digests: dict[str, dict]) -> dict[str, list[BuildResult]]:
    """Each spec's RPMs, the parent first; a package over the header budget is split.

    ``digests`` gets each RPM's sha256 (by file name, with the file's identity), hashed by
    the worker that wrote it while its bytes are in the page cache and the other worker
    compresses: the bundle's repodata and SHA256SUMS take it from the build state
    instead of reading gigabytes again (packager/bundle/writer.py)."""
    t0 = time.monotonic()
    stager = Stager(opts.cache, releases, work, STEPS, contexts)
    stager.prefetch((o,) if isinstance(o, str) else tuple(o) for s in todo for o in s.origins
                    if isinstance(o, list) or not o.startswith("@"))
    packages = []
    try:
        for spec in todo:
            note("stage", spec.name)
            pkg = to_package(spec, stager, releases[0].os_requires.get(spec.name, []))
            try:
                split = split_package(pkg, BUDGET)
            except BuildError as exc:
                raise UserError(str(exc)) from None
            if len(split) > 1:
                note("split", f"{spec.name}: header over {BUDGET >> 20} MiB, into "
                              f"{', '.join(p.name for p in split)}")
            packages += [(spec, p) for p in split]
    finally:
        stager.close()
    t1 = time.monotonic()
    _abi_check(todo, stager, opts, note)
    t2 = time.monotonic()
    phases.update(stage=t1 - t0, abi=t2 - t1)
    jobs = opts.jobs or min(len(packages), os.cpu_count() or 1)
    # Every job's compressor gets every core: the release is one big RPM (fate-python, 70%
    # of the bytes) and small ones. Cores divided among the jobs left the big one on one
    # core once the small ones were done (scale 1: the RPM phase 178 s against 141 s for
    # bare cpio|pigz). pigz and xz -T+N write the same bytes whatever the thread count.
    comp = Compression(opts.compression.kind, opts.compression.level,
                       opts.compression.threads or os.cpu_count() or 1)

    try:
        sizes = {id(pkg): check_sources(pkg.name, pkg.files) for _, pkg in packages}
    except BuildError as exc:
        raise UserError(str(exc)) from None
    bar = ui.progress(sum(sizes.values()), "writing RPMs", enabled=opts.progress)
    # the biggest first, so no job starts a long RPM when the others are done
    order = sorted(range(len(packages)), key=lambda i: -sizes[id(packages[i][1])])

    def one(item: tuple[BuildSpec, Package]) -> BuildResult:
        spec, pkg = item
        note("rpm", spec.name)
        try:
            result = build_rpm(pkg, work / "rpms", compression=comp, sde=sde,
                               signer=opts.signer, on_bytes=bar.update, checked=True)
        except BuildError as exc:
            raise UserError(str(exc)) from None
        digests[result.path.name] = digest_record(result.path)
        return result

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            done = dict(zip(order, pool.map(one, [packages[i] for i in order])))
        results = [done[i] for i in range(len(packages))]
    finally:
        bar.close()
    phases["rpm"] = time.monotonic() - t2
    by_spec: dict[str, list[BuildResult]] = {}
    for (spec, _), result in zip(packages, results):
        by_spec.setdefault(spec.name, []).append(result)
    return by_spec


def _lint(paths: list[Path], opts: BuildOptions, note: Callable[[str, str], None]) -> None:
    """The el7 lint (``fate-pkg check``) on everything this build would put in dist/."""
    from packager.lint.check import CheckOptions, check_paths

    note("check", f"{len(paths)} RPMs")
    allow = tuple(opts.allow_abi) + tuple(f"*/{p}" for p in opts.allow_abi)
    findings = check_paths(paths, CheckOptions(allow_abi=allow))
    if findings:
        shown = "\n".join(f"  rule {f.rule}: {f.artifact}: {f.message}" for f in findings[:20])
        more = f"\n  ... and {len(findings) - 20} more" if len(findings) > 20 else ""
        raise UserError(f"the el7 lint found {len(findings)} violation(s); nothing was "
                        f"written to {opts.out_dir}:\n{shown}{more}")


def _abi_check(todo: list[BuildSpec], stager: Stager, opts: BuildOptions,
               note: Callable[[str, str], None]) -> None:
    """el7 rule 18 on every tree going into an RPM; provided = all trees of this build.

    The lint checks the same rule again on the finished RPMs (exactly, per package and its
    requirements, and for single files too). This pass is the cheap early one: it reads only
    ELF headers on disk and fails before minutes of compression are spent.
    """
    trees: list[tuple[BuildSpec, Path]] = []
    for spec in todo:
        for item in spec.data.get("files") or []:
            if isinstance(item, dict) and item.get("tree") and "from" in item:
                trees.append((spec, stager.source(item["from"], item.get("path", ""))))
    if not trees:
        return
    note("abi", f"{len(trees)} trees")
    scans = {}
    for _, tree in trees:  # each tree read once, for its names and for its check
        if tree not in scans:
            scans[tree] = scan(tree)
    provided: set[str] = set()
    for _, _, names in scans.values():
        provided |= names
    problems = []
    for spec, tree in trees:
        allow = [*opts.allow_abi, *spec.abi_allow]
        for v in check_tree(tree, provided=provided, allow=allow, scanned=scans[tree]):
            problems.append((spec.name, v))
    if problems:
        lines = report([v for _, v in problems])
        raise UserError(
            f"{len(problems)} ELF file(s) would not run on CentOS 7 (glibc 2.17), in "
            f"{', '.join(sorted({n for n, _ in problems}))}:\n{lines}\n"
            "(--allow-abi PATTERN accepts a file knowingly)")


def _fingerprint(spec: BuildSpec, releases: list[Release], contexts: dict[str, StepContext],
                 opts: BuildOptions, sde: int | None) -> str:
    """Everything an RPM is made from: its spec, options, artifacts and its steps' inputs."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for p in parts:
            h.update(str(p).encode() + b"\0")

    add("fate-pkg", __version__, _code_hash(), spec.text, opts.compression.kind,
        opts.compression.resolved_level(), sde, opts.account,
        opts.signer.key_id if opts.signer else None, sorted(opts.allow_abi),
        releases[0].os_requires.get(spec.name))
    by_name = {a.name: a for r in releases for a in r.artifacts}
    for step in closure(spec.steps, contexts):
        # its config too: another spec's (fate-python's) may say which interpreter it is
        add(step, repr(contexts[step].config),
            *(_tree_hash(p) if p.is_dir() else sha256_file(p)
              for p in STEPS[step].inputs(contexts[step]).files))
    for name in sorted(_artifacts_of(spec, contexts)):
        art = by_name.get(name)
        blob = opts.cache.lookup(art) if art else None
        add(name, art.sha256 if art and art.sha256 else sha256_file(blob) if blob else None)
    return h.hexdigest()


_CODE_HASH: str | None = None


def _code_hash() -> str:
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        for package in _CODE_PACKAGES:
            h.update(_tree_hash(Path(package.__file__).resolve().parent).encode())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if "__pycache__" in p.parts or p.suffix == ".pyc" or not p.is_file():
            continue
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _up_to_date(state: dict, name: str, fingerprint: str, out_dir: Path) -> bool:
    entry = state.get(name)
    if not (entry and entry.get("fingerprint") == fingerprint):
        return False
    return all(n in state and (out_dir / state[n]["file"]).is_file()
               for n in _rpm_names(state, name))
