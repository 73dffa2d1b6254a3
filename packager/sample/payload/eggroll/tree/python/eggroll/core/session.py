# FATE SAMPLE STAND-IN -- eggroll's python session client, reduced to what the sample uses.
"""An eggroll session: the clustermanager from $EGGROLL_HOME/conf/eggroll.properties
allocates processors on its HEALTHY nodemanagers (FATE jobs fail without them)."""

import os

from fate_sample_kit import service

CONF_KEYS = ("eggroll.resourcemanager.clustermanager.host",
             "eggroll.resourcemanager.clustermanager.port")


def eggroll_conf():
    home = os.environ.get("EGGROLL_HOME")
    if not home:
        raise service.Fatal("EGGROLL_HOME is not set (source init_env.sh)")
    path = os.path.join(home, "conf", "eggroll.properties")
    conf = service.read_properties(path)
    host = service.require(conf, CONF_KEYS[0], path)
    port = service.require_int(conf, CONF_KEYS[1], path)
    return host, port


class ErSession:
    def __init__(self, session_id, name=""):
        self.host, self.port = eggroll_conf()
        url = f"http://{self.host}:{self.port}/v1/cluster-manager/session/getOrCreateSession"
        status, answer = service.http_json("POST", url, {"session_id": session_id, "name": name},
                                           timeout=30)
        if status != 200:
            raise RuntimeError("eggroll session {} failed: {}".format(
                session_id, answer.get("retmsg", answer)))
        self.session_id = session_id
        self.processors = answer["processors"]
