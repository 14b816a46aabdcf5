"""What can be installed on a board: the target (platform tag, Python, glibc), the pip tags it accepts, and the
engine wheels that exist for it (facts measured on the PyPI index, docs/board.md and notes/arm-boards.md §1).

A tag is not the whole truth: ai-edge-litert 2.x aarch64 wheels say manylinux_2_27 but their .so files need
GLIBC_2.34 / GLIBCXX_3.4.30 (the glibc 2.35 generation), so pip installs them where they cannot load. Such
real needs are recorded here (`glibc_min`) and decide the engine before pip is asked."""

from __future__ import annotations

import platform as _platform
import re
from dataclasses import dataclass, field

from edgepack.errors import InputError

# platform tag -> (uname machine, default glibc: Pi OS bookworm / Debian 12 everywhere; --glibc for others)
PLATFORMS: dict[str, tuple[str, tuple[int, int]]] = {
    "linux_x86_64": ("x86_64", (2, 36)),
    "linux_aarch64": ("aarch64", (2, 36)),
    "linux_armv7l": ("armv7l", (2, 36)),
}
KNOWN_MACHINES = tuple(m for m, _ in PLATFORMS.values())
MIN_PYTHON = (3, 10)  # edgepack's Requires-Python
# manylinux floors per machine (PEP 600): manylinux1 = 2.5 on x86_64; aarch64/armv7l start at 2.17
_FLOOR = {"x86_64": 5, "aarch64": 17, "armv7l": 17}
_LEGACY = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}


@dataclass(frozen=True)
class Target:
    """One board: `platform` a wheel platform tag (linux_aarch64), `python` 'X.Y', `glibc` (major, minor)."""

    platform: str
    python: str
    glibc: tuple[int, int]

    @property
    def machine(self) -> str:
        return PLATFORMS[self.platform][0]

    @property
    def py(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)

    @property
    def cp(self) -> str:
        return "cp" + self.python.replace(".", "")

    def describe(self) -> str:
        return f"{self.platform} {self.cp} glibc {self.glibc[0]}.{self.glibc[1]}"

    def platform_tags(self) -> list[str]:
        """Every platform tag pip accepts on this board, newest first (manylinux_2_X down to the floor, the
        legacy aliases, then the plain linux tag)."""
        m = self.machine
        tags = []
        for minor in range(self.glibc[1], _FLOOR[m] - 1, -1):
            tags.append(f"manylinux_2_{minor}_{m}")
            if (2, minor) in _LEGACY and not (m != "x86_64" and minor < 17):
                tags.append(f"{_LEGACY[(2, minor)]}_{m}")
        return tags + [f"linux_{m}"]

    def pip_args(self) -> list[str]:
        """pip download/install options that make pip choose wheels for this board instead of this machine."""
        args = []
        for tag in self.platform_tags():
            args += ["--platform", tag]
        return args + ["--python-version", self.python, "--implementation", "cp", "--abi", self.cp,
                       "--only-binary=:all:"]

    def marker_env(self) -> dict[str, str]:
        """PEP 508 marker variables as they evaluate on the board."""
        return {"platform_machine": self.machine, "python_version": self.python,
                "python_full_version": self.python + ".0", "sys_platform": "linux", "platform_system": "Linux",
                "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython",
                "platform_release": "", "platform_version": "", "implementation_version": self.python + ".0",
                "extra": ""}


def host_platform() -> str:
    return "linux_" + _platform.machine()


def make_target(platform: str, python: str, glibc: str | None = None) -> Target:
    """A validated Target; InputError naming the accepted values otherwise."""
    if platform not in PLATFORMS:
        raise InputError(f"unknown --platform '{platform}'; choose from {', '.join(PLATFORMS)}")
    if not re.fullmatch(r"3\.\d{1,2}", python or ""):
        raise InputError(f"--python '{python}' is not a version like 3.11 (the board's python3 --version)")
    if tuple(int(p) for p in python.split(".")) < MIN_PYTHON:
        raise InputError(f"--python {python}: edgepack needs Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]} on the board")
    libc = PLATFORMS[platform][1]
    if glibc is not None:
        m = re.fullmatch(r"2\.(\d{1,2})", glibc)
        if not m or int(m.group(1)) < _FLOOR[PLATFORMS[platform][0]]:
            raise InputError(f"--glibc '{glibc}' is not a glibc version like 2.31 (ldd --version on the board; "
                             f"manylinux starts at 2.{_FLOOR[PLATFORMS[platform][0]]} here)")
        libc = (2, int(m.group(1)))
    return Target(platform, python, libc)


@dataclass(frozen=True)
class EngineWheel:
    """One way to install an engine: the edgepack extra (or plain distribution) and where its wheels exist."""

    requirement: str  # "edgepack[ncnn]" or a distribution name when edgepack has no extra for it
    dist: str
    machines: tuple[str, ...]
    python_min: tuple[int, int] = MIN_PYTHON
    python_max: tuple[int, int] | None = None  # last Python with wheels
    glibc_min: tuple[tuple[str, tuple[int, int]], ...] = ()  # (machine, real glibc need) where the tag claims less
    glibc_why: str = ""

    def extra(self) -> str | None:
        m = re.fullmatch(r"edgepack\[(\w+)\]", self.requirement)
        return m.group(1) if m else None

    def requirement_for(self, runtime_extras: set[str] | None) -> str:
        """The extra when the runtime provides it, else the engine's distribution itself (an extra the runtime
        lacks would install nothing: pip only warns about it)."""
        extra = self.extra()
        if extra is None or runtime_extras is None or extra in runtime_extras:
            return self.requirement
        return self.dist

    def refusal(self, t: Target) -> str | None:
        """Why this wheel cannot serve target `t` (None: it can)."""
        if t.machine not in self.machines:
            return f"{self.dist} publishes no {t.machine} wheels"
        if t.py < self.python_min:
            return f"{self.dist} needs Python >= {self.python_min[0]}.{self.python_min[1]}"
        if self.python_max is not None and t.py > self.python_max:
            return f"{self.dist} has wheels up to Python {self.python_max[0]}.{self.python_max[1]} only"
        need = dict(self.glibc_min).get(t.machine)
        if need is not None and t.glibc < need:
            return (f"{self.dist} needs glibc >= {need[0]}.{need[1]} on {t.machine} ({self.glibc_why}; the board "
                    f"has {t.glibc[0]}.{t.glibc[1]})")
        return None

    def atoms(self) -> list[tuple[str, str, str]]:
        """This wheel's availability as PEP 508 marker atoms (var, op, value) that all must hold; glibc has no
        marker, so a wheel with a real glibc need is only chosen correctly by the wheelhouse."""
        out = [("platform_machine", "!=", m) for m in KNOWN_MACHINES if m not in self.machines]
        if self.python_min > MIN_PYTHON:
            out.append(("python_version", ">=", f"{self.python_min[0]}.{self.python_min[1]}"))
        if self.python_max is not None:
            out.append(("python_version", "<", f"{self.python_max[0]}.{self.python_max[1] + 1}"))
        return out


# measured on the 2.3.0 wheels (deploy/glibc_needs.py): aarch64's libLiteRt.so needs GLIBC_2.34 and
# GLIBCXX_3.4.30 (GCC 12's libstdc++, first paired with glibc 2.35 in Ubuntu 22.04); x86_64's needs only
# GLIBC_2.27 / GLIBCXX_3.4.22, as its tag says
_LITERT_GLIBC = "ai-edge-litert 2.x is tagged manylinux_2_27 but its .so files need GLIBC_2.34 and GLIBCXX_3.4.30"
_AI_EDGE_LITERT = EngineWheel("edgepack[litert]", "ai-edge-litert", ("x86_64", "aarch64"),
                              glibc_min=(("aarch64", (2, 35)),), glibc_why=_LITERT_GLIBC)
_TFLITE_RUNTIME = EngineWheel("edgepack[tflite]", "tflite-runtime", ("x86_64", "aarch64", "armv7l"),
                              python_max=(3, 11))

# bundle engine name -> ways to install it, first preferred. onnxruntime: the runtime never needs it, but a
# bundle may carry an ORT artifact; pip itself picks 1.23.2 for cp310 (its last cp310 wheels).
ENGINE_WHEELS: dict[str, tuple[EngineWheel, ...]] = {
    "ncnn": (EngineWheel("edgepack[ncnn]", "ncnn", ("x86_64", "aarch64", "armv7l")),),
    "mnn": (EngineWheel("edgepack[mnn]", "mnn", ("x86_64", "aarch64")),),
    "litert": (_AI_EDGE_LITERT, _TFLITE_RUNTIME),
    "litert-native": (_AI_EDGE_LITERT,),
    "openvino": (EngineWheel("edgepack[openvino]", "openvino", ("x86_64", "aarch64")),),
    "onnxruntime": (EngineWheel("onnxruntime", "onnxruntime", ("x86_64", "aarch64")),),
}


@dataclass
class EnginePlan:
    """Per bundle engine: the wheel chosen for the target, or why there is none."""

    chosen: dict[str, EngineWheel] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def plan_engines(engines: list[str], t: Target) -> EnginePlan:
    """Choose an installable wheel per engine for target `t`; engines with none get the reasons."""
    plan = EnginePlan()
    for name in engines:
        options = ENGINE_WHEELS.get(name)
        if not options:
            plan.refused[name] = f"edgepack knows no wheels for engine '{name}'"
            continue
        reasons = []
        for w in options:
            why = w.refusal(t)
            if why is None:
                plan.chosen[name] = w
                break
            reasons.append(why)
        else:
            plan.refused[name] = "; ".join(reasons)
    return plan
