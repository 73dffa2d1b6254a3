# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""The toy example as FATE 1.4.5 runs it: ``python run_toy_example.py GUEST HOST 1``.

Submits the secure_add job through fate_flow_client.py, polls its status once a second
for MAX_TIME seconds and prints the guest's result lines, or raises FATE's own
"job running time exceed" error. FATE_SAMPLE_TOY_MAX_TIME shortens the wait in tests.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time

home_dir = os.path.split(os.path.realpath(__file__))[0]
fate_flow_path = os.path.join(home_dir, "..", "..", "fate_flow", "fate_flow_client.py")
dsl_path = os.path.join(home_dir, "toy_example_dsl.json")
conf_path = os.path.join(home_dir, "toy_example_conf.json")
MAX_TIME = int(os.environ.get("FATE_SAMPLE_TOY_MAX_TIME", "100"))


def client(*args):
    run = subprocess.run([sys.executable, fate_flow_path] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    return run.stdout.decode("utf-8")


def new_runtime_conf(guest, host, work_mode):
    with open(conf_path, encoding="utf-8") as handle:
        conf = json.load(handle)
    conf["initiator"]["party_id"] = guest
    conf["role"]["guest"] = [guest]
    conf["role"]["host"] = [host]
    conf["job_parameters"]["work_mode"] = work_mode
    folder = os.path.join(home_dir, "test")
    os.makedirs(folder, exist_ok=True)
    stamp = f"{int(time.time())}_{random.randint(1000, 9999)}"
    path = os.path.join(folder, "toy_example_conf.json_" + stamp)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(conf, indent=1) + "\n")
    return path


def submit(runtime_conf):
    stdout = client("-f", "submit_job", "-d", dsl_path, "-c", runtime_conf)
    print("stdout:" + stdout)
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise ValueError(f"failed to exec task, stdout is {stdout}") from None
    if answer.get("retcode") != 0:
        raise ValueError("failed to exec task, status:{}, stdout:{}".format(
            answer.get("retcode"), stdout))
    return answer["jobId"]


def job_status(job_id):
    try:
        answer = json.loads(client("-f", "query_job", "-j", job_id, "-r", "guest"))
    except ValueError:
        return "query job status failed"
    if answer.get("retcode") != 0:
        return "query job status failed"
    return answer["data"][0]["f_status"]


def show_log(job_id, guest, level):
    log_dir = os.path.join(home_dir, "test", "log")
    os.makedirs(log_dir, exist_ok=True)
    stdout = client("-f", "job_log", "-j", job_id, "-o", log_dir)
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise ValueError("Can not download logs from fate_flow server, error msg is "
                         + stdout) from None
    if answer.get("retcode") != 0:
        raise ValueError(f"Can not download logs from fate_flow server, error msg is {stdout}")
    folder = os.path.join(log_dir, "job_" + job_id + "_log", "guest", str(guest),
                          "secure_add_example_0")
    name = "ERROR.log" if level == "error" else "INFO.log"
    with open(os.path.join(folder, name), encoding="utf-8") as handle:
        for line in handle:
            if level == "error" or "secure_add_guest.py[line" in line:
                print(line.strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("guest_party_id", type=int, help="please input guest party id")
    parser.add_argument("host_party_id", type=int, help="please input host party id")
    parser.add_argument("work_mode", type=int,
                        help="please input work_mode, 0 stands for standalone, "
                             "1 stands for cluster")
    args = parser.parse_args()
    job_id = submit(new_runtime_conf(args.guest_party_id, args.host_party_id, args.work_mode))
    for _ in range(MAX_TIME):
        time.sleep(1)
        status = job_status(job_id)
        if status == "failed":
            show_log(job_id, args.guest_party_id, "error")
            return 1
        if status == "success":
            show_log(job_id, args.guest_party_id, "info")
            return 0
        print(f"job status is {status}")
    raise ValueError("job running time exceed, please check federation or eggroll log")


if __name__ == "__main__":
    sys.exit(main())
