"""Sandboxed kernel: an IPython kernel whose file and process access is fenced by an audit hook.

The grader starts every student's notebook in one of these, with its working directory set to
a private copy of the assignment folder. Without containers this is the best Python can do:
``sys.addaudithook`` hooks cannot be removed from Python code, so ``open``, ``os.listdir``,
``sqlite3.connect`` and friends on the course directory (hidden tests, gradebook) and on other
processes' ``/proc/<pid>`` (the grader's memory) are refused,
writes are allowed only inside the sandbox, and starting processes is refused once the grader
arms it after the set-up cells (numpy's import runs ``uname``). Native code
(ctypes, C extensions) can still bypass the hook; see autograder/README.md for the limits.

Usage (by the grader, never by hand)::

    python -m autograder.sandbox.kernel -f CONNECTION_FILE

Environment: ``RNN_GRADE_SANDBOX`` (the writable folder), ``RNN_GRADE_DENY`` (os.pathsep
separated folders that may not be read), ``RNN_GRADE_REPORT`` (a file outside the sandbox where
refused operations are logged, one JSON line each, for the grader to flag).
"""

import json
import os
import sys
import types


def _install(sandbox: str, deny: list[str], report_path: str) -> None:
    real = os.path.realpath
    sandbox = real(sandbox)
    deny = [real(d) for d in deny if d]
    # Opened before the hook exists, so the hook can log without opening files itself.
    report_fd = os.open(report_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    write_allowed = (sandbox, "/dev/null", "/dev/shm", "/dev/urandom", "/dev/random")
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    spawn_events = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                    "os.fork", "os.forkpty", "pty.spawn"}
    path_events = {"os.listdir", "os.scandir", "glob.glob", "sqlite3.connect", "shutil.copyfile",
                   "os.chdir"}
    write_events = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                    "os.truncate", "os.symlink", "os.utime", "shutil.rmtree", "shutil.move"}
    inside = _inside  # bound locally so rebinding the module global changes nothing
    armed = []  # starting processes is refused once armed (after the trusted set-up cells)

    def arm() -> None:  # one-way: nothing can disarm it
        armed.append(True)

    handle = types.ModuleType("_rg_sandbox")
    handle.arm = arm
    sys.modules["_rg_sandbox"] = handle

    def refuse(kind: str, event: str, path) -> None:
        line = json.dumps({"kind": kind, "event": event, "path": str(path)}) + "\n"
        try:
            os.write(report_fd, line.encode())
        except OSError:
            pass
        raise PermissionError(f"rnn-grade sandbox: {kind} refused ({event} {path})")

    def resolve(path) -> str | None:
        if isinstance(path, int) or path is None:
            return None  # an already open descriptor: checked when it was opened
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return real(os.fspath(path))

    own_proc = f"/proc/{os.getpid()}"

    def other_process(path: str) -> bool:
        # /proc/<pid>/mem, environ, cmdline of the grader would show the hidden tests.
        parts = path.split("/")
        return (len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit()
                and not inside(path, own_proc))

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            target = resolve(path)
            if target is None:
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if any(inside(target, d) for d in deny):
                refuse("reading course files", event, target)
            if other_process(target):
                refuse("reading another process", event, target)
            if writing and not any(inside(target, a) for a in write_allowed):
                refuse("writing outside the sandbox", event, target)
        elif event in path_events:
            target = resolve(args[0] if args else ".")
            if target is not None and any(inside(target, d) for d in deny):
                refuse("reading course files", event, target)
        elif event in write_events:
            for arg in args[:2]:
                try:
                    target = resolve(arg)
                except TypeError:
                    continue
                if target is not None and not inside(target, sandbox):
                    refuse("writing outside the sandbox", event, target)
        elif event == "os.link":
            refuse("hard links", event, args[0])
        elif event in spawn_events and armed:
            refuse("starting processes", event, args[0] if args else "")

    sys.addaudithook(hook)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def main() -> None:
    sandbox = os.environ.pop("RNN_GRADE_SANDBOX", os.getcwd())
    deny = os.environ.pop("RNN_GRADE_DENY", "").split(os.pathsep)
    report = os.environ.pop("RNN_GRADE_REPORT", os.devnull)
    # Only the test suite's negative controls switch the hook off (isolation.LAYERS_OFF).
    if "audit-hook" not in os.environ.pop("TESTING_ONLY_RNN_GRADE_LAYERS_OFF", "").split(","):
        _install(sandbox, deny, report)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
