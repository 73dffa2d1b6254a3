"""``--profile fate-1.4.5-full``: the sample release at the real release's size and shape.

The plain sample has 1.8k packaged files; the real FATE 1.4.5 has about 90k (a 148-package
venv, Miniconda, JDK, MySQL...). The header limit, the per-file costs of staging, ABI scan,
lint and writer, and the memory per file only show at that count, so this profile adds, to
the very same sample (its stand-ins still run), the bulk the real artifacts carry: the
traits in ``fate-1.4.5-full.yaml`` (counts, bytes, kind mix, depth, name lengths, each with
its source), at ``scale`` times their size. Deterministic: the output depends only on the
scale. Bulk ``.so`` files are real x86_64 ELF (needing only glibc 2.2.5 symbols) so the ABI
scan does its real work on them; bulk wheels are pure ``py3-none-any`` wheels (the sample's
Python is the host's, not 3.6), installed by pip like the real ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from packager.sample import filler
from packager.sample.archive import Entry, Tree, file, zip_bytes
from packager.sample.elfcraft import craft
from packager.sample.wheels import wheel_file

PROFILE = "fate-1.4.5-full"
TRAITS = Path(__file__).with_name(f"{PROFILE}.yaml")
#: Real pins of FATE 1.4.5's requirements.txt (the big ones first); the other pins of the 148
#: are named ``fate-sample-dep-NNN`` (their names do not change what is measured).
WHEELS: List[Tuple[str, str, float]] = [  # name, version, share of site-packages' files
    ("tensorflow", "1.15.2", 0.12), ("torch", "1.4.0", 0.06), ("scipy", "1.4.1", 0.04),
    ("pandas", "0.25.3", 0.03), ("scikit-learn", "0.22.2", 0.03), ("numpy", "1.18.4", 0.02),
    ("matplotlib", "3.2.1", 0.03), ("opencv-python", "4.2.0.34", 0.01),
    ("pyarrow", "0.17.1", 0.01), ("llvmlite", "0.31.0", 0.005), ("numba", "0.48.0", 0.02),
    ("Keras", "2.3.1", 0.01), ("Theano", "1.0.4", 0.02), ("grpcio", "1.29.0", 0.005),
    ("grpcio-tools", "1.29.0", 0.005), ("protobuf", "3.12.2", 0.005),
    ("tensorboard", "1.15.0", 0.01), ("tensorflow-estimator", "1.15.1", 0.01),
    ("notebook", "6.0.3", 0.02), ("ipython", "7.14.0", 0.01), ("jedi", "0.17.0", 0.01),
    ("Pillow", "7.1.2", 0.005), ("h5py", "2.10.0", 0.005), ("Flask", "1.1.2", 0.002),
    ("Werkzeug", "1.0.1", 0.002), ("peewee", "3.13.3", 0.001), ("PyMySQL", "0.9.3", 0.001),
    ("redis", "3.5.2", 0.001), ("kazoo", "2.7.0", 0.002), ("requests", "2.23.0", 0.001),
    ("psutil", "5.7.0", 0.001), ("lz4", "3.1.0", 0.001), ("cloudpickle", "1.4.1", 0.001),
    ("gmpy2", "2.0.8", 0.001), ("pycryptodomex", "3.9.7", 0.003),
    ("ruamel.yaml", "0.16.10", 0.001), ("cachetools", "4.1.0", 0.001),
]
_WORDS = ("core python framework ops kernels util utils tests data include platform compiler "
          "linalg sparse signal io lib distribute contrib keras layers estimator training "
          "summary internal api impl common base models nn functional cuda jit onnx backend "
          "stats optimize special interpolate plotting tools config dtypes").split()


@dataclass(frozen=True)
class Component:
    name: str
    files: int
    bytes: int
    mix: Dict[str, float]
    bytes_mix: Dict[str, float]
    depth: Tuple[int, int]
    name_len: Tuple[int, int]


def components(scale: float) -> Dict[str, Component]:
    data = yaml.safe_load(TRAITS.read_text())["components"]
    return {name: Component(name, max(1, round(c["files"] * scale)),
                            max(1, round(c["bytes"] * scale)), c["mix"], c["bytes_mix"],
                            tuple(c["depth"]), tuple(c["name"]))  # type: ignore[arg-type]
            for name, c in data.items()}


def bulk(scale: float, spool: Path) -> Dict[str, Tree]:
    """Trees to add: ``jdk``, ``mysql``, ``eggroll``, ``python``, ``fateboard`` (as the
    filler does), ``miniconda`` (the installer's payload) and ``wheels`` (name -> wheel,
    written into ``spool``). File bytes are made only when an archive writes them."""
    comps = components(scale)
    out: Dict[str, Tree] = {}
    for key, comp in (("python", "fate-python"), ("eggroll", "eggroll"), ("jdk", "jdk"),
                      ("mysql", "mysql"), ("miniconda", "miniconda")):
        out[key] = {f"{_top(key)}{p}": e for p, e in tree(comps[comp]).items()}
    out["fateboard"] = {f"lib/fateboard-deps-{i}.jar": e
                        for i, e in enumerate(tree(comps["fateboard"]).values())}
    out["wheels"] = wheels(comps["site-packages"], spool)
    return out


def _top(key: str) -> str:
    """Where the bulk goes inside each component tree (real directories of each)."""
    return {"python": "federatedml/", "eggroll": "lib/", "jdk": "jre/lib/",
            "mysql": "share/", "miniconda": "lib/python3.6/"}[key]


def wheels(comp: Component, spool: Path) -> Tree:
    """The site-packages component as wheels (files in ``spool``): the real big pins, then
    fillers to 148."""
    pins = list(WHEELS)
    rest = 1.0 - sum(w for _, _, w in pins)
    extra = 148 - len(pins)
    pins += [(f"fate-sample-dep-{i:03d}", "1.0", rest / extra) for i in range(extra)]
    # sorted by path, so each wheel takes whole directories (real packages do not share
    # directories; slicing the tree in random order made a directory per file)
    files = sorted(tree(comp).items())
    out: Tree = {}
    start = 0
    for i, (name, version, share) in enumerate(pins):
        count = len(files) - start if i == len(pins) - 1 else round(share * len(files))
        top = name.lower().replace("-", "_").replace(".", "_")
        members = {f"{top}/{p}": e for p, e in files[start:start + count]}
        members[f"{top}/__init__.py"] = file(f"# FATE SAMPLE STAND-IN: bulk of {name}\n")
        start += count
        fname, path = wheel_file(spool, name, version, members,
                                 summary=f"FATE sample bulk for {name}", level=1)
        out[fname] = Entry(path=path)
    return out


def requirements(wheel_tree: Tree) -> str:
    lines = []
    for fname in sorted(wheel_tree):
        dist, version = fname.split("-")[:2]
        lines.append(f"{dist}=={version}\n")
    return "".join(lines)


def tree(comp: Component) -> Tree:
    """``comp.files`` files of its kinds, sizes and depths, deterministic by its name."""
    rng = random.Random(f"fate-full-{comp.name}")
    kinds: List[str] = []
    for kind, share in sorted(comp.mix.items()):
        kinds += [kind] * round(share * comp.files)
    kinds = (kinds + [max(comp.mix, key=comp.mix.get)] * comp.files)[:comp.files]
    rng.shuffle(kinds)
    sizes = _sizes(rng, kinds, comp)
    dirs = _dirs(rng, comp)
    out: Tree = {}
    for i, (kind, size) in enumerate(zip(kinds, sizes)):
        d = dirs[rng.randrange(len(dirs))]
        stem = _name(rng, comp.name_len)
        path = f"{d}{stem}_{i}{_EXT[kind]}"
        out[path] = Entry(make=partial(content, kind, size, f"{comp.name}-{i}"))
    return out


_EXT = {"py": ".py", "pyc": ".pyc", "so": ".so", "data": ".json", "bin": ".bin", "jar": ".jar"}


def _sizes(rng: random.Random, kinds: List[str], comp: Component) -> List[int]:
    """Log-normal sizes (most files small, a few large), scaled to each kind's byte share."""
    raw = [rng.lognormvariate(0, 1.2) for _ in kinds]
    total: Dict[str, float] = {}
    for k, r in zip(kinds, raw):
        total[k] = total.get(k, 0.0) + r
    floor = {"so": 1200, "jar": 200}
    return [max(floor.get(k, 1), int(r / total[k] * comp.bytes * comp.bytes_mix.get(k, 0)))
            for k, r in zip(kinds, raw)]


def _dirs(rng: random.Random, comp: Component) -> List[str]:
    """About one directory per 12 files, nested between the component's min and max depth."""
    lo, hi = comp.depth
    if hi == 0:
        return [""]
    count = max(1, comp.files // 12)
    dirs: List[str] = []
    level: List[str] = [""]
    while len(dirs) < count:
        parent = level[rng.randrange(len(level))]
        depth = parent.count("/")
        if depth >= hi:
            level = [""]
            continue
        child = f"{parent}{_name(rng, (4, 18))}/"
        level.append(child)
        if depth + 1 >= lo:
            dirs.append(child)
    return dirs


def _name(rng: random.Random, span: Tuple[int, int]) -> str:
    length = rng.randint(*span)
    out = rng.choice(_WORDS)
    while len(out) < length:
        out += "_" + rng.choice(_WORDS)
    return out[:length].rstrip("_") or "x"


def content(kind: str, size: int, seed: str) -> bytes:
    rng = random.Random(seed)
    if kind == "py":  # valid Python (the lint parses every module): comments + one name
        text = b"# " + filler._text(rng, max(0, size - 16)).replace(b"\n", b"\n# ")
        return text[:max(0, size - 14)] + b"\nVALUE = 1  #\n"
    if kind == "data":
        return filler._text(rng, size)
    if kind == "pyc":  # a bytecode header, then marshalled-looking half text, half noise
        body = filler._text(rng, size // 2) + rng.randbytes(size - size // 2)
        return (b"\x33\x0d\x0d\x0a" + bytes(12) + body)[:max(size, 16)]
    if kind == "so":
        elf = craft(64, True, 62, ["libc.so.6"], {"libc.so.6": ["GLIBC_2.2.5"]},
                    [("memcpy", "GLIBC_2.2.5")], soname=None)
        return elf + filler._elf(rng, max(0, size - len(elf)))[24:]
    if kind == "jar":
        return zip_bytes({"META-INF/MANIFEST.MF": file("Manifest-Version: 1.0\n\n"),
                          "bulk.bin": file(filler._elf(rng, size))}, level=1)
    return rng.randbytes(size)
