# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""fate_flow's settings, read from arch/conf/base_conf.yaml and server_conf.json as 1.4 does."""

import os

from arch.api.utils import file_utils
from fate_sample_kit.service import Fatal, dig

API_VERSION = "v1"


class Settings:
    def __init__(self):
        base, base_path = file_utils.load_base_conf()
        server, server_path = file_utils.load_server_conf()
        self.work_mode = int(dig(base, "work_mode", base_path))
        if self.work_mode != 1:
            raise Fatal(f"{base_path}: work_mode is {self.work_mode}; a cluster needs work_mode: 1")
        self.host = str(dig(base, "fate_flow.host", base_path))
        self.http_port = int(dig(base, "fate_flow.http_port", base_path))
        self.grpc_port = int(dig(base, "fate_flow.grpc_port", base_path))
        self.database = {key: dig(base, "database." + key, base_path)
                         for key in ("name", "user", "passwd", "host", "port")}
        self.proxy_host = str(dig(server, "servers.proxy.host", server_path))
        self.proxy_port = int(dig(server, "servers.proxy.port", server_path))
        self.project_base = file_utils.get_project_base_directory()
        self.log_dir = os.path.join(self.project_base, "logs")
