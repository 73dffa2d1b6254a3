# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""fate_flow 1.4.5 in miniature: job API on http_port, party commands on grpc_port.

Started as the real one is: ``python /data/projects/fate/python/fate_flow/fate_flow_server.py``
inside the venv with PYTHONPATH=<fate python>:<eggroll>/python. It refuses to start until
eggroll's clustermanager and this party's rollsite answer (the start-order trap of
FATE#1373), keeps jobs in MySQL database ``fate_flow`` (table t_job), and runs the toy
job's secure_add component through eggroll (session) and rollsite (every message).
"""

import io
import os
import sys
import tarfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fate_sample_kit import service  # noqa: E402  (from the venv: missing venv = ImportError)
from fate_sample_mysql import escape  # noqa: E402

from fate_flow.settings import Settings  # noqa: E402

COMPONENT = "secure_add_example_0"
T_JOB = """CREATE TABLE IF NOT EXISTS t_job (
  f_job_id VARCHAR(25) NOT NULL, f_role VARCHAR(10) NOT NULL, f_party_id VARCHAR(10) NOT NULL,
  f_status VARCHAR(50) NOT NULL, f_initiator_party_id VARCHAR(50), f_runtime_conf LONGTEXT,
  f_dsl LONGTEXT, f_create_time BIGINT, f_update_time BIGINT,
  PRIMARY KEY (f_job_id, f_role, f_party_id))"""


class JobStore:
    """t_job in the fate_flow database; one session guarded by a lock."""

    def __init__(self, db):
        self.db = db
        self.lock = threading.Lock()
        self.conn = self._connect()
        self.run(T_JOB)

    def _connect(self):
        db = self.db
        return service.mysql_connect(db["host"], int(db["port"]), str(db["user"]),
                                     str(db["passwd"]), str(db["name"]), "fate_flow")

    def run(self, sql):
        with self.lock:
            try:
                return self.conn.query(sql)
            except OSError:
                self.conn = self._connect()
                return self.conn.query(sql)

    def save(self, job_id, role, party, status, initiator="", conf="", dsl=""):
        now = int(time.time() * 1000)
        self.run("INSERT INTO t_job (f_job_id, f_role, f_party_id, f_status, f_initiator_party_id, "
                 "f_runtime_conf, f_dsl, f_create_time, f_update_time) VALUES ({}, {}, {}, {}, {}, "
                 "{}, {}, {now}, {now}) ON DUPLICATE KEY UPDATE f_status = VALUES(f_status), "
                 "f_update_time = {now}".format(*map(escape, (job_id, role, party, status,
                                                             initiator, conf, dsl)), now=now))

    def query(self, job_id, role=None, party=None):
        sql = ("SELECT f_job_id, f_role, f_party_id, f_status FROM t_job WHERE f_job_id = "
               + escape(job_id))
        if role:
            sql += f" AND f_role = {escape(role)}"
        if party:
            sql += f" AND f_party_id = {escape(party)}"
        return self.run(sql).dicts()


class Federation:
    """remote/get through this party's rollsite (server_conf.json servers.proxy)."""

    def __init__(self, settings, job_id, role, party):
        self.base = f"http://{settings.proxy_host}:{settings.proxy_port}"
        self.job_id, self.role, self.party = job_id, role, str(party)
        self.timeout = float(os.environ.get("FATE_SAMPLE_TASK_TIMEOUT", "600"))

    def _key(self, name, role, party):
        return f"{self.job_id}.{name}.{role}.{party}"

    def remote(self, obj, name, role, party):
        body = {"src_party": self.party, "dst_party": str(party), "kind": "data",
                "key": self._key(name, role, party), "payload": obj}
        status, answer = service.http_json("POST", self.base + "/v1/route/push", body, timeout=60)
        if status != 200:
            raise RuntimeError("federation remote {} to {} {} failed: {}".format(
                name, role, party, answer.get("retmsg", answer)))

    def get(self, name):
        key = self._key(name, self.role, self.party)
        deadline = time.time() + self.timeout
        while True:
            wait = min(30.0, max(0.1, deadline - time.time()))
            status, answer = service.http_json("POST", self.base + "/v1/route/pull",
                                               {"key": key, "timeout": wait}, timeout=wait + 10)
            if status == 200:
                return answer["payload"]
            if status != 408 or time.time() >= deadline:
                raise RuntimeError("federation get {} failed: {}".format(
                    name, answer.get("retmsg", answer)))

    def command(self, party, payload):
        body = {"src_party": self.party, "dst_party": str(party), "kind": "command",
                "key": f"{self.job_id}.command", "payload": payload}
        return service.http_json("POST", self.base + "/v1/route/push", body, timeout=60)


def job_logger(settings, job_id, role, party):
    import logging

    folder = os.path.join(settings.log_dir, job_id, role, str(party), COMPONENT)
    os.makedirs(folder, exist_ok=True)
    logger = logging.getLogger(f"job.{job_id}.{role}.{party}")
    fmt = logging.Formatter(service.LOG_FORMAT)
    info = logging.FileHandler(os.path.join(folder, "INFO.log"))
    info.setLevel(logging.INFO)
    error = logging.FileHandler(os.path.join(folder, "ERROR.log"))
    error.setLevel(logging.ERROR)
    for handler in (info, error):
        handler.setFormatter(fmt)
    logger.handlers[:] = [info, error]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


class FateFlow:
    def __init__(self, settings, store, log):
        self.settings, self.store, self.log = settings, store, log

    def _params(self, conf, role):
        params = conf.get("role_parameters", {}).get(role, {}).get(COMPONENT, {})
        merged = dict(conf.get("algorithm_parameters", {}).get(COMPONENT, {}))
        merged.update({k: (v[0] if isinstance(v, list) and v else v) for k, v in params.items()})
        return merged

    def run_job(self, job_id, role, party, conf):
        from eggroll.core.session import ErSession

        if role == "guest":
            from federatedml.toy_example.secure_add_guest import SecureAddGuest as Component
        else:
            from federatedml.toy_example.secure_add_host import SecureAddHost as Component
        logger = job_logger(self.settings, job_id, role, party)
        self.store.save(job_id, role, party, "running")
        try:
            ErSession(f"{job_id}_{COMPONENT}_0_{role}_{party}", COMPONENT)
            federation = Federation(self.settings, job_id, role, party)
            peers = conf["role"]
            if role == "guest":
                host_party = peers["host"][0]
                status, answer = federation.command(host_party, {
                    "cmd": "create_job", "job_id": job_id, "role": "host",
                    "party_id": str(host_party), "runtime_conf": conf})
                if status != 200 or answer.get("retcode") != 0:
                    raise RuntimeError("cannot create job on host {}: {}".format(
                        host_party, answer.get("retmsg", answer)))
            Component(federation, self._params(conf, role), peers, logger).run()
            self.store.save(job_id, role, party, "success")
        except Exception as exc:
            logger.exception("job %s %s %s failed: %s", job_id, role, party, exc)
            self.log.error("job %s (%s %s) failed: %s", job_id, role, party, exc)
            self.store.save(job_id, role, party, "failed")

    def start_job(self, job_id, role, party, conf):
        thread = threading.Thread(target=self.run_job, args=(job_id, role, party, conf),
                                  name=f"job-{job_id}-{role}")
        thread.daemon = True
        thread.start()

    # -- http API -----------------------------------------------------------------------
    def submit(self, body, _query):
        import json

        conf = body.get("job_runtime_conf") or {}
        try:
            guest = str(conf["role"]["guest"][0])
            str(conf["role"]["host"][0])
        except (KeyError, IndexError, TypeError):
            return 200, {"retcode": 100, "retmsg": "runtime conf needs role.guest and role.host"}
        job_id = time.strftime("%Y%m%d%H%M%S") + f"{int(time.time() * 1e6) % 1000000:06d}"
        self.store.save(job_id, "guest", guest, "waiting", guest, json.dumps(conf),
                        json.dumps(body.get("job_dsl") or {}))
        self.start_job(job_id, "guest", guest, conf)
        self.log.info("submitted job %s", job_id)
        return 200, {"retcode": 0, "retmsg": "success", "jobId": job_id,
                     "data": {"board_url": f"http://fateboard/index.html#/dashboard?job_id={job_id}"
                              , "model_info": {}}}

    def query(self, body, _query):
        rows = self.store.query(str(body.get("job_id", "")), body.get("role"),
                                body.get("party_id"))
        if not rows:
            return 200, {"retcode": 101, "retmsg": "no job could be found"}
        return 200, {"retcode": 0, "retmsg": "success", "data": rows}

    def job_log(self, body, _query):
        job_id = str(body.get("job_id", ""))
        folder = os.path.join(self.settings.log_dir, job_id)
        if not job_id or "/" in job_id or not os.path.isdir(folder):
            return 404, {"retcode": 404, "retmsg": f"no log of job {job_id}"}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(folder, arcname=f"job_{job_id}_log")
        return 200, buffer.getvalue()

    def command(self, body, _query):
        payload = body.get("payload") or {}
        if payload.get("cmd") != "create_job":
            return 400, {"retcode": 400, "retmsg": "unknown command"}
        job_id, party = str(payload["job_id"]), str(payload["party_id"])
        self.store.save(job_id, payload["role"], party, "waiting", str(body.get("src_party")))
        self.start_job(job_id, payload["role"], party, payload["runtime_conf"])
        return 200, {"retcode": 0, "retmsg": "success"}


def main():
    settings = Settings()
    log = service.setup_logging(os.path.join(settings.log_dir, "fate_flow"),
                                "fate_flow_stat.log", "fate_flow")
    try:
        from eggroll.core.session import eggroll_conf
    except ImportError as exc:
        raise service.Fatal(f"cannot import eggroll's python client ({exc}); PYTHONPATH must "
                            "include $EGGROLL_HOME/python") from None
    cm_host, cm_port = eggroll_conf()
    try:
        service.wait_healthy([("eggroll clustermanager", cm_host, cm_port),
                              ("rollsite (servers.proxy)", settings.proxy_host,
                               settings.proxy_port)], service.peer_timeout(), log)
    except service.Fatal as exc:
        raise service.Fatal(f"eggroll is not ready: {exc}; start eggroll before fate_flow "
                            "(FATE#1373)") from None
    store = JobStore(settings.database)
    flow = FateFlow(settings, store, log)
    health = ("GET", "/health"), lambda b, q: (200, {"status": "UP", "module": "fate_flow"})
    service.serve(settings.host, settings.http_port, dict([health, (
        ("POST", "/v1/job/submit"), flow.submit), (("POST", "/v1/job/query"), flow.query),
        (("POST", "/v1/job/log"), flow.job_log)]), log, "fate_flow http")
    service.serve(settings.host, settings.grpc_port, dict([health, (
        ("POST", "/v1/federation/command"), flow.command)]), log, "fate_flow grpc", h2=True)
    log.info("fate_flow started: work_mode %s, database %s@%s:%s/%s", settings.work_mode,
             settings.database["user"], settings.database["host"], settings.database["port"],
             settings.database["name"])
    service.wait_forever()


if __name__ == "__main__":
    service.run_main("fate_flow", main)
