# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""Class loading for the sample JVM: a "class" is Python source stored as ``a/b/C.class``.

The sample ``bin/java`` puts the classpath in FATE_SAMPLE_JAVA_CLASSPATH and the ``-D``
system properties in FATE_SAMPLE_JAVA_PROPERTIES (JSON), so that a class started by
another one (eggroll's Bootstrap starting ClusterManagerBootstrap) resolves against the
same classpath, and a wrong classpath really fails with java's message.
"""

import json
import os
import sys
import zipfile


class ClassNotFound(Exception):
    pass


def classpath():
    raw = os.environ.get("FATE_SAMPLE_JAVA_CLASSPATH", "")
    return [entry for entry in raw.split(os.pathsep) if entry]


def system_properties():
    return json.loads(os.environ.get("FATE_SAMPLE_JAVA_PROPERTIES", "{}"))


def find_class(name, entries=None):
    """(source text, origin) of class ``name`` from the first classpath entry holding it."""
    member = name.replace(".", "/") + ".class"
    for entry in classpath() if entries is None else entries:
        if os.path.isdir(entry):
            path = os.path.join(entry, member)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    return handle.read(), path
        elif zipfile.is_zipfile(entry):
            with zipfile.ZipFile(entry) as jar:
                if member in jar.namelist():
                    return jar.read(member).decode("utf-8"), f"{entry}!/{member}"
    raise ClassNotFound(name)


def run_class(name, args, entries=None):
    """Execute class ``name`` as a program with ``args`` (its ``main``)."""
    source, origin = find_class(name, entries)
    sys.argv = [name] + list(args)
    namespace = {"__name__": "__main__", "__file__": origin, "__builtins__": __builtins__}
    exec(compile(source, origin, "exec"), namespace)
