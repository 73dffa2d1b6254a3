"""The closure resolver on the el7-shaped repositories (expected sets written by hand)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from packager.repo import Closure, Repo, Requirement, UnresolvedDependency, load_base, resolve
from packager.rpm import Dependency

BASE = ("bash", "filesystem", "glibc", "openssl")


def req(origin: str, text: str) -> Requirement:
    return Requirement(origin, Dependency.parse(text))


FATE = [
    req("fate-mysql", "libaio.so.1()(64bit)"),
    req("fate-mysql", "mysql-libs"),
    req("fate-eggroll", "numactl-libs >= 2.0"),
    req("fate-tools", "/usr/bin/python3"),
    req("fate-tools", "/bin/sh"),
    req("fate-rollsite", "openssl-libs(x86-64) >= 1:1.0.2k-26.el7_9"),
]


def nevras(closure: Closure) -> list[str]:
    return [p.nevra for p in closure.packages]


def without(repos: list[Repo], *names: str) -> list[Repo]:
    return [dataclasses.replace(r, packages=tuple(p for p in r.packages if p.name not in names))
            for r in repos]


def test_closure_of_fate_requirements(file_repos: list[Repo]) -> None:
    closure = resolve(FATE, file_repos, BASE)
    assert nevras(closure) == [
        # python3-libs-18 needs glibc >= 2.17-326.el7_9: the base glibc (os, 317) is
        # upgraded, and glibc-common, which pins glibc's exact build, follows it.
        "glibc-2.17-326.el7_9.x86_64",
        "glibc-common-2.17-326.el7_9.x86_64",
        "libaio-0.3.109-13.el7.x86_64",
        # mysql-libs is obsoleted by mariadb-libs, which provides mysql-libs
        "mariadb-libs-1:5.5.68-1.el7.x86_64",
        "numactl-libs-2.0.12-5.el7.x86_64",
        # the base openssl pins openssl-libs' exact build: upgraded along with it
        "openssl-1:1.0.2k-26.el7_9.x86_64",
        "openssl-libs-1:1.0.2k-26.el7_9.x86_64",
        "python3-3.6.8-18.el7.x86_64",
        "python3-libs-3.6.8-18.el7.x86_64",
        "python3-pip-9.0.3-7.el7_7.noarch",
        "python3-setuptools-39.2.0-10.el7.noarch",
    ]
    # bash (providing /bin/sh) and what it needs are base: not bundled
    assert closure.base == ("bash-4.2.46-34.el7.x86_64", "filesystem-3.2-25.el7.x86_64",
                            "ncurses-libs-5.9-14.20130511.el7_4.x86_64")
    why = {p.name: p.reason for p in closure.packages}
    assert why["libaio"] == "fate-mysql → libaio.so.1()(64bit)"
    assert why["python3-libs"] == ("fate-tools → /usr/bin/python3 → python3 → "
                                   "python3-libs(x86-64) = 3.6.8-18.el7")
    assert why["mariadb-libs"] == "fate-mysql → mysql-libs"
    assert why["openssl"] == (
        "fate-rollsite → openssl-libs(x86-64) >= 1:1.0.2k-26.el7_9 → openssl-libs → "
        "openssl-1:1.0.2k-19.el7.x86_64 needs openssl-libs(x86-64) = 1:1.0.2k-19.el7")
    by_name = {p.name: p for p in closure.packages}
    assert by_name["glibc"].arch == "x86_64"  # the i686 build of the same EVR is never used
    assert by_name["python3"].url.endswith("/updates/Packages/python3-3.6.8-18.el7.x86_64.rpm")
    assert by_name["libaio"].size > 0 and len(by_name["libaio"].sha256) == 64


def test_older_build_requested_exactly(file_repos: list[Repo]) -> None:
    closure = resolve([req("fate-tools", "python3 = 3.6.8-17.el7")], file_repos, BASE)
    assert nevras(closure) == [
        "python3-3.6.8-17.el7.x86_64", "python3-libs-3.6.8-17.el7.x86_64",
        "python3-pip-9.0.3-7.el7_7.noarch", "python3-setuptools-39.2.0-10.el7.noarch",
    ]  # python3-libs-17 is happy with the base glibc: no upgrade


def test_release_omitted_accepts_any_release(file_repos: list[Repo]) -> None:
    closure = resolve([req("fate-tools", "python3-libs = 3.6.8")], file_repos, BASE)
    assert "python3-libs-3.6.8-18.el7.x86_64" in nevras(closure)


def test_missing_provider_names_the_chain(file_repos: list[Repo]) -> None:
    with pytest.raises(UnresolvedDependency) as err:
        resolve(FATE, without(file_repos, "libaio"), BASE)
    assert str(err.value) == "fate-mysql → libaio.so.1()(64bit) → nothing provides it"


def test_deep_chain_and_all_failures_at_once(file_repos: list[Repo]) -> None:
    repos = without(file_repos, "ncurses-libs")
    with pytest.raises(UnresolvedDependency) as err:
        resolve([req("fate-tools", "/bin/sh"), req("fate-x", "snappy-devel")], repos, ())
    assert str(err.value) == (
        "fate-tools → /bin/sh → bash → libtinfo.so.5()(64bit) → nothing provides it; "
        "fate-x → snappy-devel → nothing provides it")
    assert "\n" not in str(err.value)


def test_never_i686(file_repos: list[Repo]) -> None:
    # only the i686 gmp provides the 32-bit soname
    with pytest.raises(UnresolvedDependency, match=r"fate-x → libgmp.so.10 → nothing"):
        resolve([req("fate-x", "libgmp.so.10")], file_repos, BASE)
    closure = resolve([req("fate-x", "gmp")], file_repos, BASE)
    assert nevras(closure) == ["gmp-1:6.0.0-15.el7.x86_64"]


def test_versioned_requirement_nothing_new_enough(file_repos: list[Repo]) -> None:
    with pytest.raises(UnresolvedDependency,
                       match=r"python3-libs\(x86-64\) = 3\.6\.8-19\.el7 → nothing provides it"):
        resolve([req("fate-tools", "python3-libs(x86-64) = 3.6.8-19.el7")], file_repos, BASE)


def test_conflicting_requirements(file_repos: list[Repo]) -> None:
    with pytest.raises(UnresolvedDependency, match="already chosen"):
        resolve([req("a", "python3-libs = 3.6.8-17.el7"), req("b", "python3-libs >= 3.6.8-18")],
                file_repos, BASE)


def test_file_requirement_outside_primary_hints(file_repos: list[Repo]) -> None:
    with pytest.raises(UnresolvedDependency, match="primary.xml lists only"):
        resolve([req("fate-x", "/usr/lib64/libaio.so.1")], file_repos, BASE)


def test_empty_base_bundles_everything(file_repos: list[Repo]) -> None:
    closure = resolve([req("fate-tools", "/bin/sh")], file_repos, ())
    assert nevras(closure) == [
        "bash-4.2.46-34.el7.x86_64", "filesystem-3.2-25.el7.x86_64",
        "glibc-2.17-326.el7_9.x86_64", "glibc-common-2.17-326.el7_9.x86_64",
        "ncurses-libs-5.9-14.20130511.el7_4.x86_64",
    ]
    assert closure.base == ()


def test_deterministic_and_round_trips(file_repos: list[Repo], tmp_path: Path) -> None:
    first = resolve(FATE, file_repos, BASE)
    shuffled = list(FATE)
    random.Random(7).shuffle(shuffled)
    again = resolve(shuffled, file_repos, tuple(reversed(BASE)))
    assert again == first
    first.save(tmp_path / "closure.json")
    assert Closure.load(tmp_path / "closure.json") == first


def test_core_package_list() -> None:
    names = load_base()
    assert len(names) > 60
    for name in ("bash", "glibc", "systemd", "yum", "rpm", "openssh-server", "sudo"):
        assert name in names
    for name in ("libaio", "numactl-libs", "python3", "gcc", "jq", "supervisor"):
        assert name not in names  # what the seed had to yum-install


def test_base_list_rejects_junk(tmp_path: Path) -> None:
    bad = tmp_path / "core.txt"
    bad.write_text("bash\nglibc common\n")
    with pytest.raises(Exception, match=r"core.txt:2: 'glibc common': one package name"):
        load_base(bad)


def test_many_failures_stay_one_readable_line(file_repos: list[Repo]) -> None:
    missing = [req("fate-x", f"libmissing{i:02d}.so.1()(64bit)") for i in range(12)]
    with pytest.raises(UnresolvedDependency) as err:
        resolve(missing, file_repos, BASE)
    text = str(err.value)
    assert text.count("nothing provides it") == 10
    assert text.endswith("; and 2 more")


def test_upgrade_that_breaks_a_bundled_package_is_a_conflict() -> None:
    from packager.repo.metadata import RepoPackage
    from packager.repo.vercmp import EVR
    from packager.rpm import tags as t

    def pkg(name: str, version: str, requires: tuple = ()) -> RepoPackage:
        evr = EVR(None, version, "1.el7")
        return RepoPackage(name, evr, "x86_64", f"http://m/{name}-{version}.rpm", "0" * 64, 1,
                           "m", provides=((name, t.SENSE_EQUAL, evr),), requires=requires)

    pinned = (("libx", t.SENSE_EQUAL, EVR(None, "1.0", "1.el7")),)
    repo = Repo("http://m/", (pkg("libx", "1.0"), pkg("libx", "2.0"),
                              pkg("tool", "1.0", pinned)))
    with pytest.raises(UnresolvedDependency) as err:
        resolve([req("a", "tool"), req("b", "libx >= 2.0")], [repo], ["libx"])
    assert str(err.value) == ("a → tool → libx = 1.0-1.el7: needs libx-1.0-1.el7.x86_64, "
                              "but libx-2.0-1.el7.x86_64 is already chosen for b → libx >= 2.0")
