# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""fate_flow's command-line client: -f submit_job|query_job|job_log, JSON on stdout.

Talks to the fate_flow named in arch/conf/server_conf.json (servers.fateflow), as 1.4's
client does; prints the server's JSON answer (retcode 0 = success).
"""

import argparse
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def server_url():
    with open(os.path.join(BASE, "arch", "conf", "server_conf.json"), encoding="utf-8") as handle:
        flow = json.load(handle)["servers"]["fateflow"]
    host = flow["host"] if flow["host"] not in ("0.0.0.0", "") else "127.0.0.1"
    return "http://{}:{}/v1".format(host, flow["http.port"])


def call(path, body):
    request = urllib.request.Request(server_url() + path, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        return exc.read()


def load_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv):
    parser = argparse.ArgumentParser(prog="fate_flow_client.py")
    parser.add_argument("-f", "--function", required=True,
                        choices=["submit_job", "query_job", "job_log"])
    parser.add_argument("-c", "--config")
    parser.add_argument("-d", "--dsl")
    parser.add_argument("-j", "--job_id")
    parser.add_argument("-r", "--role")
    parser.add_argument("-p", "--party_id")
    parser.add_argument("-o", "--output_path")
    args = parser.parse_args(argv)
    try:
        if args.function == "submit_job":
            answer = call("/job/submit", {"job_runtime_conf": load_json(args.config),
                                          "job_dsl": load_json(args.dsl) if args.dsl else {}})
        elif args.function == "query_job":
            answer = call("/job/query", {"job_id": args.job_id, "role": args.role,
                                         "party_id": args.party_id})
        else:
            data = call("/job/log", {"job_id": args.job_id})
            if data[:2] == b"\x1f\x8b":
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                    tar.extractall(args.output_path)
                answer = json.dumps({"retcode": 0, "retmsg": "download successfully, please "
                                     f"check {args.output_path} directory",
                                     "directory": os.path.abspath(args.output_path)}).encode()
            else:
                answer = data
    except (OSError, urllib.error.URLError) as exc:
        answer = json.dumps({"retcode": 100, "retmsg": f"connection error: {exc}"}).encode()
    sys.stdout.write(answer.decode("utf-8") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
