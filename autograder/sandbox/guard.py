"""Runtime guard: catches answer cells that swap out what the tests rely on.

After the set-up cell the grader takes a fingerprint of everything a test cell trusts: the names
the set-up cell bound (``np``, ``tf``, the test helpers), numpy's comparison functions, the
helpers of the course's checks (its policy's ``PROTECTED_ATTRIBUTES``) and the builtins. Before
every test cell it takes the fingerprint again; anything that changed was monkeypatched by
student code, so the grader flags the exercise and puts the originals back (so later exercises
are graded against the real functions).
The fingerprints live in the grader process, not in the kernel, so a student cannot rewrite
them; the snippets below run hidden (not stored in the notebook, not shown in feedback).
"""

from .isolation import layers_off

# Attributes of modules that test cells use to decide pass/fail, in any course. A course adds the
# modules of its own checks (PROTECTED_ATTRIBUTES of its policy module, read by course/policy.py).
PROTECTED_ATTRIBUTES = {
    "numpy": ["allclose", "isclose", "array_equal", "array_equiv", "all", "any", "abs", "max",
              "isfinite", "isnan", "testing", "asarray", "array"],
    "numpy.testing": ["assert_allclose", "assert_array_equal", "assert_array_almost_equal",
                      "assert_almost_equal", "assert_equal", "assert_array_less",
                      "assert_raises"],
    "builtins": ["abs", "all", "any", "isinstance", "len", "max", "min", "sum", "round", "float",
                 "int", "bool", "range", "zip", "print", "AssertionError", "Exception",
                 "getattr", "hasattr", "type", "callable", "sorted"],
}


def protected(course: dict[str, list[str] | str] | None = None) -> dict[str, list[str] | str]:
    """The guard's table with the course's modules added (a module in both: the union)."""
    table = dict(PROTECTED_ATTRIBUTES)
    for module, attributes in (course or {}).items():
        mine = table.get(module, [])
        table[module] = "*" if "*" in (mine, attributes) else sorted({*mine, *attributes})
    return table

# Defines the hidden helper once, right after the set-up cells. It keeps the originals in a
# closure so a restore can rebind them; tampering with the closure only makes the next
# fingerprint differ again, which is flagged again.
INSTALL = r'''
def __rg_make():
    import builtins, sys, hashlib
    if "_rg_sandbox" in sys.modules:
        sys.modules["_rg_sandbox"].arm()  # set-up is done: from here on no subprocesses
    protected = %(protected)r
    setup_names = [n for n, v in globals().items() if not n.startswith("_")]
    originals = {}

    def targets():
        for module_name, attrs in protected.items():
            module = sys.modules.get(module_name)
            if module is None:
                continue
            if attrs == "*":
                attrs = [a for a in vars(module) if not a.startswith("_")]
            for attr in attrs:
                if attr in vars(module):
                    yield module_name + "." + attr, module, attr
        for name in setup_names:
            yield "<set-up name> " + name, None, name

    def digest(obj):
        code = getattr(obj, "__code__", None)
        body = code.co_code + repr(code.co_consts).encode() if code is not None else b""
        return "%%x:%%s" %% (id(obj), hashlib.sha1(body).hexdigest()[:12])

    def value(module, attr):
        return vars(module).get(attr) if module is not None else globals().get(attr)

    for key, module, attr in targets():
        originals[key] = (module, attr, value(module, attr))

    def fingerprint():
        return {key: digest(value(module, attr)) for key, (module, attr, _) in originals.items()}

    def restore(keys):
        for key in keys:
            module, attr, original = originals[key]
            if module is None:
                globals()[attr] = original
            else:
                setattr(module, attr, original)
        return fingerprint()

    return fingerprint, restore

_rg_%(token)s_fingerprint, _rg_%(token)s_restore = __rg_make()
del __rg_make
'''


def install_code(token: str, course: dict[str, list[str] | str] | None = None) -> str:
    """The set-up snippet, watching the guard's table and the ``course``'s modules; ``token`` is
    random per notebook so student code cannot name it."""
    return INSTALL % {"protected": protected(course), "token": token}


def fingerprint_code(token: str) -> str:
    if "guard" in layers_off():  # only the test suite's negative control: nothing is watched
        return "{}"
    return f"_rg_{token}_fingerprint()"


def restore_code(token: str, keys: list[str]) -> str:
    return f"_rg_{token}_restore({keys!r})"
