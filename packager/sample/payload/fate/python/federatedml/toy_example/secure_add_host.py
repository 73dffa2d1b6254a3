# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""The toy job's host side (see secure_add_guest.py)."""

import random


class SecureAddHost:
    def __init__(self, federation, params, roles, logger):
        self.federation, self.roles, self.logger = federation, roles, logger
        self.data_num = int(params.get("data_num", 1000))
        self.seed = int(params.get("seed", 321))

    def run(self):
        log = self.logger
        log.info("begin to init parameters of secure add example host")
        rng = random.Random(self.seed)
        log.info("begin to make host data")
        y = {i: 1 for i in range(self.data_num)}
        log.info("split data into two random parts")
        y1 = {}
        y2 = {}
        for key in sorted(y):
            first = rng.uniform(y[key], -y[key])
            y1[key], y2[key] = first, y[key] - first
        guest = self.roles["guest"][0]
        log.info("get share of one random part data from guest")
        x2 = self.federation.get("guest_share")
        log.info("share one random part data to guest")
        self.federation.remote([y1[k] for k in sorted(y1)], "host_share", "guest", guest)
        log.info("begin to get sum of host and guest")
        host_sum = 0
        for key in sorted(y2):
            host_sum += x2[key] + y2[key]
        log.info("send host sum to guest")
        self.federation.remote(host_sum, "host_sum", "guest", guest)
        return host_sum
