"""Every sub-package of gridflex is listed in pyproject.toml, so a pip install ships it."""

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_subpackage_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gridflex").rglob("__init__.py")
    }
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"


def test_the_readme_python_example_runs_from_the_repository_root():
    # run where the source folder shadows the installed package (issue 22: it used to fail
    # with "'NoneType' object has no attribute 'load_network'")
    import re
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## Use from Python\n\n```python\n(.*?)```", readme, re.S).group(1)
    check = "\nassert len(result.tables) and len(report.summary) == 96\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", example + check], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
