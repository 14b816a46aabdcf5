"""`edgepack wheel`: the model as a reproducible py3-none-any wheel, installed with pip into a clean venv
(no index: the runtime wheel built from this tree and the dependency wheels downloaded beforehand), then used
as `import digits; digits.load()`, `edgepack.load("digits")` and the `digits` console script."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from deploy_helpers import (
    build_runtime_wheel,
    clean_env,
    digit_images,
    make_venv,
    pack_digits,
    results,
    same_classification,
)
from edgepack.deploy import wheel as wheel_mod
from edgepack.deploy.wheel import build_wheel
from edgepack.errors import BundleError, InputError


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return pack_digits(tmp_path_factory.mktemp("wheel") / "digits.edgepack")


def _unzip(bundle: Path, dest: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(dest)
    return dest


def test_same_bundle_gives_byte_identical_wheels_from_zip_and_directory(bundle, tmp_path):
    a = build_wheel(bundle, tmp_path / "a")
    b = build_wheel(bundle, tmp_path / "b")
    c = build_wheel(_unzip(bundle, tmp_path / "unzipped"), tmp_path / "c")
    assert a.path.name == "digits-1-py3-none-any.whl"
    assert a.path.read_bytes() == b.path.read_bytes() == c.path.read_bytes()


def test_record_hashes_every_file_and_artifacts_are_byte_identical(bundle, tmp_path):
    res = build_wheel(bundle, tmp_path)
    with zipfile.ZipFile(res.path) as zf, zipfile.ZipFile(bundle) as src:
        names = zf.namelist()
        body = names[:-1]
        assert body == sorted(body, key=lambda n: (".dist-info/" in n, n)) and names[-1].endswith("/RECORD")
        assert len({i.date_time for i in zf.infolist()}) == 1
        rows = [r.split(",") for r in zf.read("digits-1.dist-info/RECORD").decode().splitlines()]
        assert sorted(r[0] for r in rows) == sorted(names)
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = zf.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data)
        manifest = json.loads(src.read("manifest.json"))
        named = [rel for art in manifest["artifacts"] for rel in art["sha256"]]
        refs = manifest["verification"].get("references")
        named += [refs["file"]] if refs else []
        for rel in named:  # every file the manifest names, byte for byte
            assert zf.read(f"digits/bundle/{rel}") == src.read(rel)
        assert sorted(n for n in names if n.startswith("digits/bundle/")) == sorted(
            f"digits/bundle/{n}" for n in src.namelist())
        meta = zf.read("digits-1.dist-info/METADATA").decode()
    from packaging.metadata import Metadata

    parsed = Metadata.from_email(meta, validate=True)  # core metadata as the packaging spec reads it
    assert (parsed.name, str(parsed.version), str(parsed.requires_python)) == ("digits", "1", ">=3.10")
    assert "Requires-Dist: edgepack[images,ncnn]>=0.1.0\n" in meta
    assert 'Requires-Dist: edgepack[litert,mnn]>=0.1.0; platform_machine != "armv7l"' in meta
    assert 'edgepack[tflite]>=0.1.0; python_version < "3.12" and platform_machine == "armv7l"' in meta


def test_engines_keeps_only_those_artifacts_in_a_valid_manifest(bundle, tmp_path):
    from edgepack.runtime.bundle.reader import Bundle

    res = build_wheel(bundle, tmp_path, engines=["ncnn", "tflite"])  # tflite: pack's name for litert
    assert res.artifacts == ["ncnn-fp32", "litert-fp32"]
    with zipfile.ZipFile(res.path) as zf:
        zf.extractall(tmp_path / "x")
    with Bundle(tmp_path / "x" / "digits" / "bundle") as b:
        assert [a["engine"] for a in b.manifest.artifacts] == ["ncnn", "litert"]
        assert {r["engine"] for r in b.manifest.benchmarks} <= {"ncnn", "litert"}
        assert b.verify() == []
    assert not any("mnn" in r for r in res.requires)


def test_names_are_normalised_per_pep_503_and_427(bundle, tmp_path):
    res = build_wheel(bundle, tmp_path, name="My_Model.v2", version="1.2.0")
    assert (res.dist, res.module, res.path.name) == ("my-model-v2", "my_model_v2", "my_model_v2-1.2.0-py3-none-any.whl")
    with zipfile.ZipFile(res.path) as zf:
        eps = zf.read("my_model_v2-1.2.0.dist-info/entry_points.txt").decode()
    assert "my-model-v2 = my_model_v2:main" in eps and "[edgepack.models]\nmy-model-v2 = my_model_v2:bundle_path" in eps


def test_untrusted_model_name_cannot_reach_the_generated_code(bundle, tmp_path):
    d = _unzip(bundle, tmp_path / "b")
    doc = json.loads((d / "manifest.json").read_text())
    doc["model"]["name"] = 'x"""\nimport os; os.system("echo pwned")\n"""'
    (d / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="not a valid package name"):
        build_wheel(d, tmp_path / "o")
    res = build_wheel(d, tmp_path / "o", name="safe")
    with zipfile.ZipFile(res.path) as zf:
        source = zf.read("safe/__init__.py").decode()
    namespace: dict = {}
    exec(compile(source, "safe/__init__.py", "exec"), namespace)  # defines only; runs nothing of the name
    assert namespace["MODEL"] == doc["model"]["name"] and "pwned" not in source.split("MODEL = ")[0]


@pytest.mark.parametrize("args, message", [
    (["--name", "numpy"], "would shadow the module 'numpy'"),
    (["--name", "-bad"], "not a valid package name"),
    (["--name", "2fast"], "does not give a Python import name"),
    (["--version", "one.two"], "not a PEP 440 version"),
    (["--engines", "openvino"], "the bundle has no such artifacts; it has litert, mnn, ncnn"),
])
def test_bad_arguments_exit_2_with_one_line(bundle, tmp_path, args, message):
    r = run_cli("wheel", str(bundle), "-o", str(tmp_path), *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_existing_wheel_needs_force_and_nothing_half_written(bundle, tmp_path):
    assert run_cli("wheel", str(bundle), "-o", str(tmp_path)).returncode == 0
    r = run_cli("wheel", str(bundle), "-o", str(tmp_path))
    assert r.returncode == 2 and "already exists" in r.stderr
    r = run_cli("wheel", str(bundle), "-o", str(tmp_path), "--force")
    assert r.returncode == 0 and "requires edgepack[images,ncnn]>=0.1.0" in r.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["digits-1-py3-none-any.whl"]


def test_wheel_over_pypi_limit_warns(bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(wheel_mod, "PYPI_FILE_LIMIT", 1000)
    res = build_wheel(bundle, tmp_path)
    assert any("PyPI refuses files over 100 MB" in w for w in res.warnings)


def test_load_by_name_of_a_model_not_installed_says_how_to_get_it():
    import edgepack

    with pytest.raises(BundleError, match="no installed model of that name.*edgepack wheel"):
        edgepack.load("no-such-model-xyz")


@pytest.mark.slow
def test_installed_wheel_loads_by_import_by_name_and_as_a_console_script(bundle, tmp_path):
    import edgepack

    model = build_wheel(bundle, tmp_path / "dist", engines=["ncnn"])
    runtime = build_runtime_wheel(tmp_path / "runtime")
    deps = tmp_path / "deps"  # what the runtime needs with [images,ncnn], fetched for this machine beforehand
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(deps),
                    f"edgepack[images,ncnn] @ {runtime.as_uri()}"], check=True)
    py = make_venv(tmp_path / "venv")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(runtime.parent),
                    "--find-links", str(deps), str(model.path)], check=True, env=clean_env())
    images = digit_images(tmp_path / "images")
    code = ("import sys, digits, edgepack\n"
            "s = digits.load(); t = edgepack.load('digits')\n"
            "assert s.path == t.path == digits.bundle_path(), (s.path, t.path)\n"
            "print(s.engine, s.path)\n"
            "for p in sys.argv[1:]: print(f'{p}: {t.run(p)}')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime', 'rich', 'torch')))\n")
    r = subprocess.run([str(py), "-c", code, *map(str, images)], capture_output=True, text=True, env=clean_env(),
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head, *_, imported = r.stdout.strip().splitlines()
    assert head.startswith("ncnn ") and "site-packages/digits/bundle" in head and imported == "[]"
    script = subprocess.run([str(tmp_path / "venv" / "bin" / "digits"), str(images[0]), str(images[0].parent)],
                            capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    got = results(script.stdout)
    assert script.stdout.startswith("digits: classify with ncnn fp32")
    assert sorted(got) == sorted(p.name for p in images)
    assert results(r.stdout) == got  # the console script prints what the API returns
    with edgepack.load(bundle, engine="ncnn") as host:  # this process's engine and runtime, from the bundle
        for p in images:
            assert same_classification(got[p.name], [(lab, float(s)) for lab, s in
                                                     (x.rsplit(" ", 1) for x in str(host.run(p)).split(", "))])
    bad = subprocess.run([str(tmp_path / "venv" / "bin" / "digits"), "missing.png"], capture_output=True, text=True,
                         env=clean_env(), cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == ("digits: error: 'missing.png' is not an image file or a "
                                                          "directory; check the path")
    # RECORD is what pip uninstalls by: nothing of the model may stay behind
    subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "digits"], check=True, env=clean_env())
    site = next((tmp_path / "venv" / "lib").glob("python3.*/site-packages"))
    assert not list(site.glob("digits*")) and not (tmp_path / "venv" / "bin" / "digits").exists()


def test_engine_without_a_runtime_extra_is_required_by_its_distribution_and_unknown_ones_warn(bundle, tmp_path):
    from edgepack.deploy.wheel import runtime_extras

    d = _unzip(bundle, tmp_path / "b")
    doc = json.loads((d / "manifest.json").read_text())
    engines = {"mnn": "openvino", "litert": "tensorrt"}  # same files, other engine names: metadata only
    for art in doc["artifacts"]:
        art["engine"] = engines.get(art["engine"], art["engine"])
    doc["benchmarks"] = []
    (d / "manifest.json").write_text(json.dumps(doc))
    res = build_wheel(d, tmp_path / "o")
    openvino = "edgepack[openvino]>=0.1.0" if "openvino" in (runtime_extras() or ()) else "openvino"
    assert f'{openvino}; platform_machine != "armv7l"' in res.requires
    assert res.warnings == ["engine 'tensorrt' has no known wheels: the model wheel does not install it"]
