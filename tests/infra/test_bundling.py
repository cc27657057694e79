"""The Docker-free bundling of the Lambda asset, without synthesizing and without the network."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra import app, bundling

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A tiny package standing in for ``bulk_import``, with build-machine bytecode that must not ship."""
    root = tmp_path / "src" / "bulk_import"
    (root / "entrypoints" / "__pycache__").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "entrypoints" / "__init__.py").write_text("")
    (root / "entrypoints" / "api.py").write_text("def handler(event, context):\n    return {}\n")
    (root / "entrypoints" / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"\0")
    return root


def test_runtime_dependencies_are_the_project_dependencies() -> None:
    with bundling.PYPROJECT.open("rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    assert bundling.runtime_dependencies() == declared
    assert any(requirement.startswith("aws-lambda-powertools") for requirement in declared)


def test_pip_targets_the_lambda_platform_with_wheels_only() -> None:
    command = bundling.pip_command("/out", ["pydantic>=2"])
    assert command[1:4] == ["-m", "pip", "install"]
    for platform in bundling.PIP_PLATFORMS:
        assert command[command.index(platform) - 1] == "--platform"
    assert command[command.index("--python-version") + 1] == bundling.LAMBDA_PYTHON_VERSION
    assert "--only-binary=:all:" in command
    assert command[command.index("--target") + 1] == "/out"
    assert command[-1] == "pydantic>=2"


def test_lambda_runtime_architecture_and_wheels_agree() -> None:
    assert bundling.LAMBDA_RUNTIME.name == f"python{bundling.LAMBDA_PYTHON_VERSION}"
    assert bundling.LAMBDA_ARCHITECTURE.name == "x86_64"
    assert all(platform.endswith("_x86_64") for platform in bundling.PIP_PLATFORMS)


def test_asset_hash_follows_sources_and_requirements_but_not_bytecode(package: Path) -> None:
    base = bundling.asset_hash(["a==1"], package)
    assert bundling.asset_hash(["a==1"], package) == base
    assert bundling.asset_hash(["a==2"], package) != base
    (package / "entrypoints" / "__pycache__" / "other.cpython-311.pyc").write_bytes(b"\1")
    assert bundling.asset_hash(["a==1"], package) == base
    (package / "entrypoints" / "api.py").write_text("def handler(event, context):\n    return None\n")
    assert bundling.asset_hash(["a==1"], package) != base


def test_try_bundle_installs_then_copies_the_package(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    monkeypatch.setattr(bundling, "runtime_python", lambda: None)
    out = tmp_path / "asset"
    out.mkdir()
    assert bundling.PipLocalBundling(["orjson>=3"], package).try_bundle(str(out)) is True
    assert calls == [bundling.pip_command(str(out), ["orjson>=3"])]
    assert (out / "bulk_import" / "entrypoints" / "api.py").is_file()
    assert not (out / "bulk_import" / "entrypoints" / "__pycache__").exists()


def test_the_asset_is_compiled_with_the_runtime_s_python_when_the_machine_has_one(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[tuple[str, str]] = []
    monkeypatch.setattr(bundling.subprocess, "run", lambda c, **k: subprocess.CompletedProcess(c, 0, "", ""))
    monkeypatch.setattr(bundling, "runtime_python", lambda: "/opt/python3.12")
    monkeypatch.setattr(bundling, "compile_bytecode", lambda d, p: compiled.append((d, p)))
    out = tmp_path / "asset"
    out.mkdir()
    bundling.PipLocalBundling(["orjson>=3"], package).try_bundle(str(out))
    assert compiled == [(str(out), "/opt/python3.12")]


def test_bytecode_is_written_for_every_module_without_depending_on_file_times(tmp_path: Path) -> None:
    import importlib.util
    import sys

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 1\n")
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bundling.compile_bytecode(str(tmp_path), sys.executable, version)
    pyc = Path(importlib.util.cache_from_source(str(tmp_path / "pkg" / "mod.py")))
    assert pyc.is_file()
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # hash-based, never checked


def test_an_interpreter_of_another_version_is_refused(tmp_path: Path) -> None:
    import sys

    with pytest.raises(RuntimeError, match=r"not the runtime.s 2\.7"):
        bundling.compile_bytecode(str(tmp_path), sys.executable, "2.7")


def test_asset_hash_tells_a_compiled_asset_from_sources_alone(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "runtime_python", lambda: None)
    sources = bundling.asset_hash(["a==1"], package)
    monkeypatch.setattr(bundling, "runtime_python", lambda: "/opt/python3.12")
    assert bundling.asset_hash(["a==1"], package) != sources


def test_try_bundle_raises_when_pip_fails(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution found for nope")

    monkeypatch.setattr(bundling.subprocess, "run", failing_run)
    # Raising (not returning False) keeps CDK from falling back to Docker, which this machine lacks.
    with pytest.raises(RuntimeError, match="No matching distribution"):
        bundling.PipLocalBundling(["nope"], package).try_bundle(str(tmp_path))


def test_cdk_json_runs_the_app_module_with_the_project_venv() -> None:
    config = json.loads(app.CDK_JSON.read_text())
    assert config["app"] == ".venv/bin/python -m infra.app"
    # The in-process app (tests) reads the same feature flags as the CLI.
    assert app.cdk_json_context() == config["context"]


def _trimmed_copy_of_botocore_data(tmp_path: Path) -> Path:
    import shutil as sh

    import botocore

    asset = tmp_path / "asset"
    sh.copytree(Path(botocore.__file__).parent / "data", asset / "botocore" / "data")
    bundling.trim_botocore(str(asset))
    return asset / "botocore" / "data"


def test_the_asset_keeps_botocore_s_models_and_endpoints_of_the_functions_services_only(
    tmp_path: Path,
) -> None:
    data = _trimmed_copy_of_botocore_data(tmp_path)
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == sorted(bundling.BOTOCORE_SERVICES)
    endpoints = json.loads((data / "endpoints.json").read_text())
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    assert "states" in aws["services"] and "dynamodb" in aws["services"] and "lambda" not in aws["services"]
    assert (data / "endpoints.json").stat().st_size < 150_000


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_clients_of_the_trimmed_data_reach_the_endpoints_botocore_s_own_data_gives(
    tmp_path: Path, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session
    from botocore.loaders import Loader

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    data = _trimmed_copy_of_botocore_data(tmp_path)
    trimmed = botocore.session.Session()
    trimmed.register_component(
        "data_loader", Loader(extra_search_paths=[str(data)], include_default_search_paths=False)
    )
    for service in bundling.BOTOCORE_SERVICES:
        ours = trimmed.create_client(service, region_name=region)
        stock = botocore.session.Session().create_client(service, region_name=region)
        assert ours.meta.endpoint_url == stock.meta.endpoint_url, service


def test_the_trimmed_services_are_every_service_the_functions_build_a_client_for() -> None:
    import re

    package = bundling.PACKAGE_DIR
    called = {
        name
        for path in package.rglob("*.py")
        if "local" not in path.relative_to(package).parts
        for name in re.findall(
            r"""\.(?:client|lazy|create_client)\(\s*["']([a-z0-9-]+)["']""", path.read_text()
        )
    }
    assert called and called <= set(bundling.BOTOCORE_SERVICES), called - set(bundling.BOTOCORE_SERVICES)


def test_the_asset_s_models_are_botocore_s_own_without_their_reference_documentation(
    tmp_path: Path,
) -> None:
    from botocore.loaders import Loader

    data = _trimmed_copy_of_botocore_data(tmp_path)
    trimmed = Loader(extra_search_paths=[str(data)], include_default_search_paths=False)
    stock = Loader()

    def undocumented(value: Any) -> Any:
        if isinstance(value, dict):
            docs = ("documentation", "documentationUrl")
            return {k: undocumented(v) for k, v in value.items() if k not in docs}
        if isinstance(value, list):
            return [undocumented(v) for v in value]
        return value

    for service in bundling.BOTOCORE_SERVICES:
        ours = trimmed.load_service_model(service, "service-2")
        theirs = stock.load_service_model(service, "service-2")
        assert "documentation" not in json.dumps(ours["operations"]), service
        assert ours["operations"] == undocumented(theirs["operations"]), service
        assert ours["shapes"] == undocumented(theirs["shapes"]), service
        # Elsewhere the model is left whole: botocore requires the documentation of each client context
        # parameter (S3's), for one.
        rest = {k: v for k, v in theirs.items() if k not in ("operations", "shapes", "documentation")}
        assert {k: v for k, v in ours.items() if k not in ("operations", "shapes")} == rest, service
    # What a cold start parses for the DynamoDB client: about a fifth of botocore's file.
    assert len(json.dumps(trimmed.load_service_model("dynamodb", "service-2"))) < 150_000


def test_a_member_named_documentation_keeps_its_place_in_a_trimmed_model() -> None:
    model = {
        "documentation": "<p>The service.</p>",
        "metadata": {"endpointPrefix": "x"},
        "operations": {
            "Put": {
                "name": "Put",
                "documentation": "<p>Puts.</p>",
                "input": {"shape": "PutInput", "documentation": "<p>In.</p>"},
                "errors": [{"shape": "Oops", "documentation": "<p>Oops.</p>"}],
            }
        },
        "shapes": {
            "PutInput": {
                "type": "structure",
                "documentation": "<p>In.</p>",
                "members": {"documentation": {"shape": "Text", "documentation": "<p>A field.</p>"}},
            },
            "Texts": {"type": "list", "member": {"shape": "Text", "documentation": "<p>One.</p>"}},
            "Text": {"type": "string"},
            "Oops": {"type": "structure", "members": {}, "exception": True},
        },
    }
    bare = bundling.without_documentation(model)
    assert bare == {
        "metadata": {"endpointPrefix": "x"},
        "operations": {"Put": {"name": "Put", "input": {"shape": "PutInput"}, "errors": [{"shape": "Oops"}]}},
        "shapes": {
            "PutInput": {"type": "structure", "members": {"documentation": {"shape": "Text"}}},
            "Texts": {"type": "list", "member": {"shape": "Text"}},
            "Text": {"type": "string"},
            "Oops": {"type": "structure", "members": {}, "exception": True},
        },
    }
