"""Enters a sandboxed kernel's cgroups and resource limits, then becomes its command (bwrap).

Runs as ``python -I -S enter.py SPEC -- COMMAND...``: isolated mode and no ``site``, so it starts
in milliseconds and imports nothing the grader's environment could alter. SPEC is JSON:
``{"cgroups": [cgroup.procs files], "rlimits": {"RLIMIT_NOFILE": n, ...}}``. Joining the cgroups
before ``exec`` means every process the kernel ever starts is counted in them.
"""

import json
import os
import resource
import sys


def apply(spec: dict) -> None:
    for procs in spec.get("cgroups", []):
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    for name, value in spec.get("rlimits", {}).items():
        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # only root may raise a hard limit
        # Soft = hard: the kernel cannot raise its own limit back.
        resource.setrlimit(which, (value, value))


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: enter.py SPEC -- COMMAND...")
    apply(json.loads(argv[0]))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
