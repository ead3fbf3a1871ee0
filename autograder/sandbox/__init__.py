"""Where student code runs: the sandboxed kernel (kernel.py), how it is launched (launch.py) and
the runtime guard against monkeypatching (guard.py)."""
