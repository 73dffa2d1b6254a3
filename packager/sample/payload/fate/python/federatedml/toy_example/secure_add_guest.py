# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""The toy job's guest side: secret-shares its data with the host over rollsite.

Guest holds x_i = 1, host y_i = 1 (i < data_num). Each splits its value into a random
share and a remainder, sends one part across, and the guest adds both partial sums.
The floating-point result of 1000 + 1000 this way is 1999.9999999999998, as in FATE.
"""

import random


class SecureAddGuest:
    def __init__(self, federation, params, roles, logger):
        self.federation, self.roles, self.logger = federation, roles, logger
        self.data_num = int(params.get("data_num", 1000))
        self.seed = int(params.get("seed", 123))

    def run(self):
        log = self.logger
        log.info("begin to init parameters of secure add example guest")
        rng = random.Random(self.seed)
        log.info("begin to make guest data")
        x = {i: 1 for i in range(self.data_num)}
        log.info("split data into two random parts")
        x1 = {}
        x2 = {}
        for key in sorted(x):
            first = rng.uniform(x[key], -x[key])
            x1[key], x2[key] = first, x[key] - first
        log.info("share one random part data to host")
        host = self.roles["host"][0]
        self.federation.remote([x2[k] for k in sorted(x2)], "guest_share", "host", host)
        log.info("get share of one random part data from host")
        y1 = self.federation.get("host_share")
        log.info("begin to get sum of guest and host")
        guest_sum = 0
        for key in sorted(x1):
            guest_sum += x1[key] + y1[key]
        log.info("receive host sum from guest")
        host_sum = self.federation.get("host_sum")
        secure_sum = host_sum + guest_sum
        if abs(secure_sum - self.data_num * 2) >= 1e-6:
            raise ValueError(f"secure sum {secure_sum} is not {self.data_num * 2}")
        log.info(f"success to calculate secure_sum, it is {secure_sum}")
        return secure_sum
