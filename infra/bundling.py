"""Docker-free bundling of the Lambda code asset.

Every function of the stack runs from one code asset: the ``bulk_import`` package plus its runtime
dependencies (``[project].dependencies`` of ``pyproject.toml``). CDK's Python bundling would run pip inside a
Docker image; machines that build this stack have no Docker, so the asset is bundled locally instead, with
``pip install --platform ... --only-binary=:all:``. That downloads wheels built for the Lambda platform (Linux
x86_64, CPython 3.12) whatever the build machine is, so the result is the same as a Docker build as long as
every dependency ships wheels, which they all do.

Bytecode: pip installs with ``--no-compile`` (bytecode of the build machine's Python would not load on the
runtime's), and the asset is compiled afterwards with an interpreter of the runtime's own version when the
build machine has one (the interpreter ``LAMBDA_PYTHON`` names, ``python3.12`` on ``PATH``, or a pyenv
install of 3.12): without
it, every cold start compiles each module it imports (Lambda's code directory is read-only, so nothing is
cached), which costs more than the imports themselves. The bytecode is written in ``unchecked-hash``
mode, so it does not depend on file times, which the zip of the asset does not keep. A build machine
without that interpreter bundles the sources alone and says so.

botocore ships the models of some 450 services (about 30 MB) and the endpoints of all of them in one 1.2 MB
file that every client parses; the asset keeps only the services the functions call
(``BOTOCORE_SERVICES``, held equal to the clients the package builds by a test) and their endpoints, and
their models without the reference documentation they carry (four fifths of each file, parsed by every
client at its creation and read only for docstrings).

Tests skip bundling altogether (``lambda_code(skip_bundling=True)``): synth then only copies ``functions/``,
which is fast and needs no network. Set ``CDK_BUNDLING=skip`` or pass ``-c bundling=skip`` to the CDK CLI to
get the same from ``cdk synth`` (the template is identical apart from the asset hash).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO_ROOT / "functions"
PACKAGE_NAME = "bulk_import"
PACKAGE_DIR = FUNCTIONS_DIR / PACKAGE_NAME
PYPROJECT = REPO_ROOT / "pyproject.toml"

#: The Lambda runtime, its Python version and architecture must agree with the wheels pip picks below:
#: change all four together.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_ARCHITECTURE = lambda_.Architecture.X86_64
LAMBDA_PYTHON_VERSION = "3.12"
#: The Python 3.12 runtime runs on Amazon Linux 2023 (glibc 2.34), so wheels for manylinux2014 (glibc 2.17)
#: and manylinux_2_28 both load. pip only accepts the platform tags it is given, hence both.
PIP_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")

#: ``CDK_BUNDLING=skip`` in the environment, or context ``bundling=skip``, turns bundling off.
SKIP_ENV = "CDK_BUNDLING"
SKIP_CONTEXT = "bundling"
SKIP_VALUE = "skip"

#: Never shipped: bytecode of the build machine's Python (a different version from the runtime's) and
#: packaging metadata of the editable install.
_IGNORED_NAMES = ("__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".DS_Store")


def runtime_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """Return the runtime requirements of the project, as written in ``pyproject.toml``.

    Parameters
    ----------
    pyproject
        The project file to read.

    Returns
    -------
    list of str
        The ``[project].dependencies`` requirement strings, in file order.
    """
    with pyproject.open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return [str(requirement) for requirement in project.get("dependencies", [])]


def pip_command(output_dir: str, requirements: list[str]) -> list[str]:
    """Build the pip command line that installs ``requirements`` for the Lambda platform into ``output_dir``.

    Parameters
    ----------
    output_dir
        The directory that becomes the root of the code asset.
    requirements
        Requirement strings, as in ``pyproject.toml``.

    Returns
    -------
    list of str
        The argument vector, starting with this interpreter (the project's virtualenv under ``cdk synth``).
    """
    platform_args = [arg for platform in PIP_PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode would be for this interpreter, not for the runtime's Python
        *platform_args,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",  # required by --platform: no source builds for a foreign platform
        "--upgrade",
        "--target",
        output_dir,
        *requirements,
    ]


#: The AWS services the functions call: the asset keeps botocore's models and endpoints of these alone.
#: STS stays for the credential providers that assume a role.
BOTOCORE_SERVICES = ("dynamodb", "events", "kms", "s3", "sqs", "stepfunctions", "sts")


#: The keys of a botocore service model that hold only its reference documentation (HTML text).
_DOCUMENTATION_KEYS = ("documentation", "documentationUrl")


def without_documentation(model: dict[str, Any]) -> dict[str, Any]:
    """A botocore service model (``service-2.json``) without its reference documentation.

    About four fifths of a model is the HTML text of the API reference, which botocore reads only to
    write docstrings and help; every client parses the whole file when it is created, so a cold start
    parses DynamoDB's 540 KB for 110 KB of model. The keys are removed where the model's grammar puts
    them (the service, each operation and its input, output and error references, each shape and each
    of its member references): a member that happens to be *named* ``documentation`` stays.
    """

    def bare(spec: Any) -> Any:
        if not isinstance(spec, dict):
            return spec
        return {key: value for key, value in spec.items() if key not in _DOCUMENTATION_KEYS}

    def operation(spec: dict[str, Any]) -> dict[str, Any]:
        out = bare(spec)
        for ref in ("input", "output"):
            if ref in out:
                out[ref] = bare(out[ref])
        if "errors" in out:
            out["errors"] = [bare(error) for error in out["errors"]]
        return out

    def shape(spec: dict[str, Any]) -> dict[str, Any]:
        out = bare(spec)
        if isinstance(out.get("members"), dict):
            out["members"] = {name: bare(member) for name, member in out["members"].items()}
        for ref in ("member", "key", "value"):
            if ref in out:
                out[ref] = bare(out[ref])
        return out

    out = bare(model)
    out["operations"] = {name: operation(spec) for name, spec in model.get("operations", {}).items()}
    out["shapes"] = {name: shape(spec) for name, spec in model.get("shapes", {}).items()}
    return out


def trim_botocore(output_dir: str, services: Sequence[str] = BOTOCORE_SERVICES) -> None:
    """Leave in the asset's ``botocore/data`` only ``services``, each model without its reference
    documentation (``without_documentation``), and in its ``endpoints.json`` only their endpoints (by
    each model's ``endpointPrefix``); nothing happens without botocore in the asset."""
    data = Path(output_dir) / "botocore" / "data"
    if not data.is_dir():
        return
    prefixes: set[str] = set()
    for entry in sorted(data.iterdir()):
        if not entry.is_dir():
            continue
        if entry.name not in services:
            shutil.rmtree(entry)
            continue
        for model in entry.glob("*/service-2.json*"):
            opener = gzip.open if model.suffix == ".gz" else open
            with opener(model, "rb") as handle:
                document = json.load(handle)
            prefixes.add(document["metadata"].get("endpointPrefix", entry.name))
            with opener(model, "wb") as handle:
                handle.write(json.dumps(without_documentation(document), separators=(",", ":")).encode())
    endpoints = data / "endpoints.json"
    if endpoints.is_file():
        document = json.loads(endpoints.read_bytes())
        for partition in document.get("partitions", []):
            partition["services"] = {
                name: spec for name, spec in partition.get("services", {}).items() if name in prefixes
            }
        endpoints.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


#: Names an interpreter of the runtime's Python version when it is not ``python3.12`` on ``PATH``.
RUNTIME_PYTHON_ENV = "LAMBDA_PYTHON"


def runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's Python version on this machine, or None.

    ``LAMBDA_PYTHON`` when set (used as given: ``compile_bytecode`` refuses it if it is another version),
    else the first of ``python3.12`` on ``PATH`` and pyenv's installs of 3.12 (newest first) that runs
    and is 3.12 (pyenv's shim is on ``PATH`` even where it has no 3.12 to run).
    """
    named = os.environ.get(RUNTIME_PYTHON_ENV)
    if named:
        return named
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installs = sorted(
        pyenv.glob(f"{LAMBDA_PYTHON_VERSION}.*/bin/python{LAMBDA_PYTHON_VERSION}"),
        key=lambda p: [int(n) if n.isdigit() else 0 for n in p.parts[-3].split(".")],
        reverse=True,
    )
    on_path = shutil.which(f"python{LAMBDA_PYTHON_VERSION}")
    for candidate in [*([on_path] if on_path else []), *map(str, installs)]:
        if _version_of(candidate) == LAMBDA_PYTHON_VERSION:
            return candidate
    return None


def _version_of(python: str) -> str | None:
    """``major.minor`` of the interpreter ``python``, or None when it does not run."""
    try:
        probe = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def compile_bytecode(directory: str, python: str, version: str = LAMBDA_PYTHON_VERSION) -> None:
    """Compile every module under ``directory`` with ``python``, in ``unchecked-hash`` mode.

    Raises
    ------
    RuntimeError
        ``python`` is not Python ``version``, or a module does not compile.
    """
    found = _version_of(python)
    if found != version:
        raise RuntimeError(
            f"{python} is Python {found or '?'}, not the runtime's {version}: its bytecode would not load"
        )
    result = subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", directory],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"compiling the asset's bytecode failed:\n{result.stdout}\n{result.stderr}")


def asset_hash(requirements: list[str], package_dir: Path = PACKAGE_DIR) -> str:
    """Fingerprint everything the bundled asset is made of.

    CDK skips bundling when ``cdk.out`` already holds an asset with this hash, so the hash must change
    whenever the package source, the requirements or the target platform change, and only then.

    Parameters
    ----------
    requirements
        Requirement strings installed into the asset.
    package_dir
        The package copied into the asset.

    Returns
    -------
    str
        A hex SHA-256 digest.
    """
    digest = hashlib.sha256()
    # With or without bytecode: a machine that can compile it rebuilds an asset bundled without.
    compiled = "bytecode" if runtime_python() else "sources"
    for part in (LAMBDA_PYTHON_VERSION, compiled, *PIP_PLATFORMS, *BOTOCORE_SERVICES, *requirements):
        digest.update(part.encode() + b"\0")
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if path.is_dir() or _is_ignored(relative):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _is_ignored(relative: Path) -> bool:
    """Tell whether a file below the package is left out of the asset (see ``_IGNORED_NAMES``)."""
    return any(part.match(pattern) for part in map(Path, relative.parts) for pattern in _IGNORED_NAMES)


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Bundle the code asset on this machine with pip, instead of in a Docker container.

    Parameters
    ----------
    requirements
        Requirement strings to install next to the package.
    package_dir
        The package directory, copied into the asset root so that handlers read
        ``bulk_import.entrypoints.<module>.handler``.
    """

    def __init__(self, requirements: list[str], package_dir: Path = PACKAGE_DIR) -> None:
        self._requirements = list(requirements)
        self._package_dir = package_dir

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Install the requirements and copy the package into ``output_dir``.

        jsii calls this with the output directory and the ``BundlingOptions`` struct (not needed here).

        Parameters
        ----------
        output_dir
            Where CDK expects the asset's content.
        options
            The bundling options (unused).

        Returns
        -------
        bool
            Always ``True``: bundling happened locally. Failures raise instead of returning ``False``,
            because ``False`` would make CDK fall back to Docker, which fails with a far less useful message.

        Raises
        ------
        RuntimeError
            If pip fails (typically: no access to the package index, or a requirement without a wheel for the
            Lambda platform), or the bytecode does not compile (``compile_bytecode``).
        """
        del options
        if self._requirements:
            result = subprocess.run(
                pip_command(output_dir, self._requirements),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"pip could not bundle the Lambda dependencies (exit {result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}"
                )
        shutil.copytree(
            self._package_dir,
            Path(output_dir) / self._package_dir.name,
            ignore=shutil.ignore_patterns(*_IGNORED_NAMES),
            dirs_exist_ok=True,
        )
        trim_botocore(output_dir)
        python = runtime_python()
        if python:
            compile_bytecode(output_dir, python)
        else:
            print(
                f"bundling: no python{LAMBDA_PYTHON_VERSION} on this machine (or {RUNTIME_PYTHON_ENV}): the "
                "functions ship without bytecode, and each cold start compiles the modules it imports",
                file=sys.stderr,
            )
        return True


def bundling_skipped(scope: Construct) -> bool:
    """Tell whether ``CDK_BUNDLING=skip`` (environment) or ``bundling=skip`` (context) disables bundling.

    Parameters
    ----------
    scope
        Any construct of the app, to read the context from.

    Returns
    -------
    bool
        ``True`` when the code asset should be the bare ``functions/`` directory.
    """
    context_value = scope.node.try_get_context(SKIP_CONTEXT)
    return os.environ.get(SKIP_ENV, "").lower() == SKIP_VALUE or str(context_value).lower() == SKIP_VALUE


def lambda_code(skip_bundling: bool) -> lambda_.Code:
    """Build the code asset shared by every function of the stack.

    Parameters
    ----------
    skip_bundling
        ``True`` (tests, quick template checks): ship ``functions/`` as is, without dependencies; the template
        is valid but the functions would fail to import their dependencies if deployed. ``False``: bundle the
        package with its runtime dependencies (needs the package index).

    Returns
    -------
    aws_cdk.aws_lambda.Code
        One asset; reusing the same object for every function stages and uploads it once.
    """
    if skip_bundling:
        return lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=list(_IGNORED_NAMES))
    requirements = runtime_dependencies()
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        # The source hash would miss a change of requirements, and would make CDK hash the directory twice.
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(requirements),
        bundling=BundlingOptions(
            # jsii hands the options struct over positionally, which the generated protocol cannot express.
            local=PipLocalBundling(requirements),  # type: ignore[arg-type]
            # Never pulled: local bundling always succeeds or raises. CDK requires an image all the same.
            image=DockerImage.from_registry("dummy"),
        ),
    )
