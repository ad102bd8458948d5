"""`import jiema` and `jiema --help` stay light: no torch, and no numba for --help."""

from __future__ import annotations

import subprocess
import sys

PROBE = "import sys; {body}; print(sorted(m for m in ('torch', 'numba') if m in sys.modules))"


def loaded_after(body: str) -> str:
    code = PROBE.format(body=body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_import_jiema_imports_neither_torch_nor_numba():
    assert loaded_after("import jiema; jiema.hookimpl") == "[]"


def test_help_imports_neither_torch_nor_numba():
    body = (
        "from jiema.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print()"
    )
    assert loaded_after(body) == "[]"


def test_listing_plugins_and_building_a_config_never_imports_torch():
    body = (
        "import jiema\n"
        "e = jiema.Engine()\n"
        "e.plugin_info(); e.config\n"
        "from jiema.cli import main\n"
        "try:\n    main(['plugins'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    code = "import sys\n" + body
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_numba_cache_lives_outside_the_installed_package(tmp_path):
    """Kernel caches beside installed sources survive `pip uninstall` and shadow a later install."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "import os, jiema; print(os.environ['NUMBA_CACHE_DIR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(tmp_path / "jiema" / "numba")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(tmp_path / "mine")


def test_every_public_name_is_the_object_of_its_module():
    # a module-level helper import must never shadow a lazy name (pathlib.Path once hid the
    # lattice's Path, since a module attribute wins over __getattr__)
    import importlib

    import jiema

    for name, module in jiema._LAZY.items():
        target = importlib.import_module(module)
        expected = target if module.endswith(f".{name}") else getattr(target, name)
        assert getattr(jiema, name) is expected, name
