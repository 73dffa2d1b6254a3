"""The CentOS 7 ABI check on real ELF files: compiled here by gcc, or written by hand."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.sample.elfcraft import craft
from packager.stage.abi import check_tree, load_policy, sonames_in
from packager.stage.elf import ElfError, is_elf, read_elf

SYSLIB = Path("/usr/lib/x86_64-linux-gnu")

# A program without crt1.o: it needs only puts, fflush and _exit @GLIBC_2.2.5, the
# shape of a binary built for old glibc. force_align_arg_pointer: _start is entered with
# a 16-byte aligned stack, not the call-aligned one a normal function expects.
OLD_ABI_C = r"""
#include <stdio.h>
#include <unistd.h>
__attribute__((force_align_arg_pointer)) void _start(void) {
    puts("fate");
    fflush(stdout);
    _exit(0);
}
"""
HELLO_C = '#include <stdio.h>\nint main(void) { puts("fate"); return 0; }\n'
LIB_C = "int fate_demo(void) { return 42; }\n"
USES_LIB_C = r"""
#include <unistd.h>
int fate_demo(void);
__attribute__((force_align_arg_pointer)) void _start(void) { _exit(fate_demo() == 42 ? 0 : 1); }
"""


def gcc(tmp: Path, source: str, out: Path, *flags: str, lang: str = "c") -> Path:
    src = tmp / f"{out.name}.{'cc' if lang == 'c++' else 'c'}"
    src.write_text(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    compiler = "g++" if lang == "c++" else "gcc"
    subprocess.run([compiler, "-O1", "-fno-stack-protector", "-o", str(out), str(src), *flags],
                   check=True, capture_output=True)
    return out


def readelf_versions(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"Name: (\S+)\s+Flags", out))


def test_program_built_here_needs_glibc_2_34_and_is_flagged(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    exe = gcc(tmp_path, HELLO_C, tree / "bin" / "hello")
    assert "GLIBC_2.34" in readelf_versions(exe)  # binutils agrees it is there
    violations = check_tree(tree)
    assert [(v.path, v.kind, v.what) for v in violations] == [
        ("bin/hello", "symbol-version", "GLIBC_2.34")]
    assert str(violations[0]) == ("bin/hello: needs GLIBC_2.34 (__libc_start_main) from "
                                  "libc.so.6: CentOS 7 has only up to GLIBC_2.17")


def test_program_needing_only_old_glibc_passes(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    exe = gcc(tmp_path, OLD_ABI_C, tree / "bin" / "old", "-nostartfiles")
    assert subprocess.run([exe], capture_output=True, text=True).stdout == "fate\n"
    assert readelf_versions(exe) == {"GLIBC_2.2.5"}
    assert check_tree(tree) == []


def test_needed_library_must_be_provided(tmp_path: Path) -> None:
    build = tmp_path / "build"
    lib = gcc(tmp_path, LIB_C, build / "libfatedemo.so.1", "-shared", "-fPIC",
              "-Wl,-soname,libfatedemo.so.1")
    tree = tmp_path / "tree"
    gcc(tmp_path, USES_LIB_C, tree / "bin" / "demo", "-nostartfiles", str(lib),
        "-Wl,-rpath,$ORIGIN/../lib")
    violations = check_tree(tree)
    assert [(v.path, v.kind, v.what) for v in violations] == [
        ("bin/demo", "library", "libfatedemo.so.1")]
    assert "neither in the package, in its dependencies nor in the CentOS 7 base" \
        in violations[0].detail
    # provided by a package this one requires
    assert check_tree(tree, provided={"libfatedemo.so.1"}) == []
    # accepted knowingly
    assert check_tree(tree, allow=["bin/*"]) == []
    assert check_tree(tree, allow=["lib/*"]) == violations
    # shipped in the tree where $ORIGIN/../lib points: the program really runs
    (tree / "lib").mkdir()
    shutil.copy(lib, tree / "lib" / "libfatedemo.so.1")
    assert subprocess.run([tree / "bin" / "demo"]).returncode == 0
    assert check_tree(tree) == []
    assert sonames_in(tree) == {"libfatedemo.so.1"}


def test_versions_of_a_bundled_library_are_checked_against_the_copy(tmp_path: Path) -> None:
    script = tmp_path / "demo.map"
    script.write_text("FATEDEMO_1.1 { global: fate_demo; local: *; };\n")
    build = tmp_path / "build"
    lib = gcc(tmp_path, LIB_C, build / "libfatedemo.so.1", "-shared", "-fPIC",
              "-Wl,-soname,libfatedemo.so.1", f"-Wl,--version-script,{script}")
    tree = tmp_path / "tree"
    gcc(tmp_path, USES_LIB_C, tree / "bin" / "demo", "-nostartfiles", str(lib))
    assert "FATEDEMO_1.1" in readelf_versions(tree / "bin" / "demo")
    (tree / "lib").mkdir()
    shutil.copy(lib, tree / "lib" / "libfatedemo.so.1")
    assert check_tree(tree) == []
    # an older copy of the library without that version node
    (tree / "lib" / "libfatedemo.so.1").unlink()
    gcc(tmp_path, LIB_C, tree / "lib" / "libfatedemo.so.1", "-shared", "-fPIC",
        "-Wl,-soname,libfatedemo.so.1")
    assert [str(v) for v in check_tree(tree)] == [
        "bin/demo: needs FATEDEMO_1.1 (fate_demo) from libfatedemo.so.1: the copy of "
        "libfatedemo.so.1 in the package does not define it"]


def test_cxx_program_built_here_needs_a_newer_libstdcxx(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    exe = gcc(tmp_path, '#include <string>\n#include <iostream>\nint main(int c, char**v)'
              '{ std::string s(v[0]); std::cout << s.size() << std::endl; }\n',
              tree / "bin" / "cxx", lang="c++")
    needed = {v for v in readelf_versions(exe) if v.startswith("GLIBCXX_")}
    newer = sorted(v for v in needed
                   if tuple(map(int, v.split("_")[1].split("."))) > (3, 4, 19))
    assert newer, f"expected a GLIBCXX newer than 3.4.19 in {needed}"
    flagged = {v.what for v in check_tree(tree) if v.what.startswith("GLIBCXX_")}
    assert flagged == set(newer)


@pytest.mark.parametrize(("bits", "little", "machine"),
                         [(64, True, 62), (32, True, 3), (64, False, 21), (32, False, 8)])
@pytest.mark.parametrize("sections", [True, False])
def test_hand_written_elf_of_every_class_and_byte_order(
    tmp_path: Path, bits: int, little: bool, machine: int, sections: bool
) -> None:
    path = tmp_path / "tree" / "lib" / "libx.so.1"
    path.parent.mkdir(parents=True)
    path.write_bytes(craft(
        bits, little, machine, ["libc.so.6", "libfoo.so.1"],
        {"libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.34"], "libfoo.so.1": ["FOO_1"]},
        [("puts", "GLIBC_2.2.5"), ("__libc_start_main", "GLIBC_2.34"), ("foo", "FOO_1")],
        soname="libx.so.1", sections=sections))
    if sections:  # binutils reads the same facts out of the file
        assert readelf_versions(path) == {"GLIBC_2.2.5", "GLIBC_2.34", "FOO_1"}
    info = read_elf(path)
    assert (info.bits, info.little_endian, info.machine) == (bits, little, machine)
    assert info.needed == ["libc.so.6", "libfoo.so.1"] and info.soname == "libx.so.1"
    assert info.version_needs == {"libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.34"],
                                  "libfoo.so.1": ["FOO_1"]}
    assert info.symbols == {"GLIBC_2.2.5": ["puts"], "GLIBC_2.34": ["__libc_start_main"],
                            "FOO_1": ["foo"]}
    found = {(v.kind, v.what) for v in check_tree(tmp_path / "tree")}
    expected = {("symbol-version", "GLIBC_2.34"), ("library", "libfoo.so.1")}
    if machine != 62:
        expected.add(("machine", str(machine)))
    assert found == expected


def test_glibc_private_and_versions_from_dependencies(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.so").write_bytes(craft(
        64, True, 62, ["libc.so.6", "libdep.so.2", "libstdc++.so.6"],
        {"libc.so.6": ["GLIBC_PRIVATE"], "libdep.so.2": ["DEP_9.9"],
         "libstdc++.so.6": ["GLIBCXX_3.4.19", "CXXABI_1.3.7", "CXXABI_TM_1"]},
        [("_dl_x", "GLIBC_PRIVATE"), ("dep", "DEP_9.9"), ("s", "GLIBCXX_3.4.19")]))
    assert [(v.what, v.detail.split(": ", 1)[1]) for v in
            check_tree(tree, provided={"libdep.so.2"})] == [
        ("GLIBC_PRIVATE", "a private interface of one exact build")]


def test_system_libraries_are_read_without_crashing_and_agree_with_readelf() -> None:
    violations = check_tree(SYSLIB)
    assert not [v for v in violations if v.kind == "unreadable"]
    assert any(v.what == "GLIBC_2.34" for v in violations)  # Debian 12 is glibc 2.36
    elves = sorted(p for p in SYSLIB.glob("*.so*")
                   if p.is_file() and not p.is_symlink() and is_elf(p))
    assert len(elves) > 100
    for path in elves[::max(1, len(elves) // 30)]:
        info = read_elf(path)
        out = subprocess.run(["readelf", "-d", "-V", "-W", str(path)], capture_output=True,
                             text=True).stdout
        assert info.needed == re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out), path
        needs = {v for vs in info.version_needs.values() for v in vs}
        theirs = set(re.findall(r"Name: (\S+)\s+Flags: \S+\s+Version: \d+", out))
        # every definition but the BASE one (the file's own name); WEAK ones count too
        defs = set(re.findall(
            r"Rev: 1\s+Flags: (?!BASE)\S+\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)", out))
        assert needs | set(info.version_defs) == theirs | defs, path


def test_damaged_elf_files_are_reported_not_crashed_on(tmp_path: Path) -> None:
    good = craft(64, True, 62, ["libc.so.6"], {"libc.so.6": ["GLIBC_2.2.5"]},
                 [("puts", "GLIBC_2.2.5")])
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "short").write_bytes(good[:40])
    (tree / "cut").write_bytes(good[:200])
    (tree / "class9").write_bytes(b"\x7fELF\x09\x01" + good[6:])
    violations = check_tree(tree)
    assert [(v.path, v.kind) for v in violations] == [
        ("class9", "unreadable"), ("cut", "unreadable"), ("short", "unreadable")]
    rng = random.Random(4)
    for _ in range(300):  # random corruption: a parse result or ElfError, nothing else
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(16, len(data))] = rng.randrange(256)
        (tree / "fuzz").write_bytes(bytes(data))
        try:
            read_elf(tree / "fuzz")
        except ElfError:
            pass


def test_bad_policy_data_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "base-sonames.txt").write_text("libc.so.6\n")
    (tmp_path / "abi.yaml").write_text("max_versions:\n  GLIBC: 2.17\n")
    with pytest.raises(UserError, match=r"abi.yaml: max_versions.GLIBC: 2.17 is not a quoted"):
        load_policy(tmp_path)
    policy = load_policy()
    assert policy.max_versions["GLIBC"] == (2, 17)
    assert {"libc.so.6", "libstdc++.so.6", "libz.so.1"} <= policy.base_sonames
