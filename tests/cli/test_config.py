"""Where commands take their settings from: defaults < config file < environment < flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.settings import OPTIONS, Settings, load_settings
from tests.cli.conftest import Invoke, assert_clean_failure

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "bridge.example.toml"


def database_file(bridge: Invoke, *args: str) -> Path:
    result = bridge("db", "upgrade", *args)
    assert result.exit_code == 0, result.output
    match = re.match(r"sqlite:///(\S+): ", result.stdout)
    assert match, result.stdout
    return Path(match[1])


def write_config(path: Path, data_dir: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[bridge]\ndata_dir = "{data_dir}"\n', encoding="utf-8")
    return path


def test_the_default_data_dir_is_data_in_the_working_directory(bridge: Invoke) -> None:
    assert database_file(bridge) == Path.cwd().resolve() / "data" / "bridge.sqlite3"


def test_config_file_then_environment_then_flag(
    bridge: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(Path("config/bridge.toml"), tmp_path / "from-file")
    assert database_file(bridge) == tmp_path / "from-file" / "bridge.sqlite3"

    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "from-env"))
    assert database_file(bridge) == tmp_path / "from-env" / "bridge.sqlite3"

    flagged = database_file(bridge, "--data-dir", str(tmp_path / "from-flag"))
    assert flagged == tmp_path / "from-flag" / "bridge.sqlite3"


def test_bridge_config_names_the_file(
    bridge: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(Path("config/bridge.toml"), tmp_path / "ignored")
    chosen = write_config(tmp_path / "elsewhere.toml", tmp_path / "chosen")
    monkeypatch.setenv("BRIDGE_CONFIG", str(chosen))

    assert database_file(bridge) == tmp_path / "chosen" / "bridge.sqlite3"


def test_a_database_url_wins_over_the_data_dir(
    bridge: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")

    result = bridge("db", "upgrade", "--data-dir", str(tmp_path / "unused"))

    assert result.exit_code == 0, result.output
    assert str(tmp_path / "elsewhere.sqlite3") in result.stdout
    assert "--data-dir is ignored" in result.stderr
    assert not (tmp_path / "unused").exists()


def test_a_bad_setting_names_option_and_source(
    bridge: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_LOG_LEVEL", "chatty")

    result = bridge("provider", "list")

    message = assert_clean_failure(result, 2)
    assert "'log_level' from environment variable BRIDGE_LOG_LEVEL" in message


def test_an_unknown_option_in_the_file_is_refused(bridge: Invoke) -> None:
    Path("config").mkdir()
    Path("config/bridge.toml").write_text('[bridge]\ndatadir = "x"\n', encoding="utf-8")

    result = bridge("db", "current")

    assert "'datadir'" in assert_clean_failure(result, 2)


def test_the_example_lists_every_option_with_its_default_and_variable(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for option in OPTIONS:
        assert f"# {option.name} = " in text, option.name
        assert f"BRIDGE_{option.name.upper()}" in text, option.name
    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", text)
    (tmp_path / "all.toml").write_text(uncommented, encoding="utf-8")

    # Every value in the example is the default, so the file changes nothing.
    assert load_settings(environ={}, config_file=tmp_path / "all.toml") == Settings()
