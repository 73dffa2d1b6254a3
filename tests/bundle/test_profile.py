"""Bundle profiles: data in bundles/*.yaml, checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from packager import resources
from packager.bundle import load_profile
from packager.bundle.profile import profile_names
from packager.errors import UserError

KNOWN = {p.stem for p in (resources.specs() / "packages").glob("*.yaml")}


def test_shipped_profiles_name_only_real_packages():
    names = profile_names()
    assert {"all-in-one", "exchange"} <= set(names)
    for name in names:
        profile = load_profile(name, known_packages=KNOWN)
        assert set(profile.packages + profile.extras) <= KNOWN
    default = load_profile(None, known_packages=KNOWN)
    assert default.name == "all-in-one"
    assert set(default.packages) | set(default.extras) == KNOWN
    assert default.extras == ("fate-deploy",)   # on the control host only, when named
    assert set(load_profile("exchange").packages) == {"fate-common", "fate-jdk",
                                                       "fate-eggroll", "fate-tools"}


def _dir(tmp_path: Path, **profiles: str) -> Path:
    for name, text in profiles.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("profiles, ask, expect", [
    ({"a": "packages: [fate-common]\ndefault: true\n", "b": "packages: [x]\ndefault: true\n"},
     None, "exactly one profile"),
    ({"a": "packages: [fate-comon]\ndefault: true\n"}, "a", "no package spec named fate-comon"),
    ({"a": "packages: []\n"}, "a", "non-empty list"),
    ({"a": "packages: [fate-common, fate-common]\n"}, "a", "twice"),
    ({"a": "packages: [fate-common]\nextra: 1\n"}, "a", "unknown key(s) extra"),
    ({"a": "packages: [fate-common\n"}, "a", "cannot read"),
    ({"a": "packages: [fate-common]\n"}, "b", "no such bundle profile"),
])
def test_bad_profiles_are_one_clear_error(tmp_path, profiles, ask, expect):
    with pytest.raises(UserError) as err:
        load_profile(ask, _dir(tmp_path, **profiles), KNOWN)
    assert expect in str(err.value) and "\n" not in str(err.value)
