# FATE SAMPLE STAND-IN -- the path eggroll.resourcemanager.bootstrap.egg_pair.filepath names.
# The sample's nodemanager does not start egg_pair processes; the toy job runs in fate_flow.
import sys

if __name__ == "__main__":
    sys.stderr.write("egg_pair: not used by the FATE sample release\n")
    sys.exit(1)
