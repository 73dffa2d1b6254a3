# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""Where FATE's python tree is and how its two 1.4 config files are read."""

import json
import os

from fate_sample_kit import service, yamlish


def get_project_base_directory():
    """The directory holding arch/, fate_flow/, federatedml/ (/data/projects/fate/python)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))


def conf_path(name):
    return os.path.join(get_project_base_directory(), "arch", "conf", name)


def load_base_conf():
    path = conf_path("base_conf.yaml")
    try:
        return yamlish.load_file(path) or {}, path
    except OSError as exc:
        raise service.Fatal(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise service.Fatal(f"{path} is not valid YAML: {exc}") from None


def load_server_conf():
    path = conf_path("server_conf.json")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle), path
    except OSError as exc:
        raise service.Fatal(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise service.Fatal(f"{path} is not valid JSON: {exc}") from None
