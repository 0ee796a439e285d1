"""Settings: defaults < TOML file < environment, and errors that name option and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.settings import OPTIONS, Settings, load_settings


@pytest.fixture(autouse=True)
def empty_working_directory(tmp_path, monkeypatch):
    """No ``config/bridge.toml`` of the checkout leaks into these tests."""
    monkeypatch.chdir(tmp_path)


def write_config(directory: Path, body: str, name: str = "bridge.toml") -> Path:
    path = directory / name
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment():
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "INFO")
    assert settings.data_dir == Path("data")
    assert settings.database_url is None and settings.public_url is None
    assert settings.is_embedded


def test_every_option_has_a_default_and_help():
    defaults = Settings()
    for option in OPTIONS:
        assert hasattr(defaults, option.name)
        assert option.help


def test_the_default_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / "config").mkdir()
    write_config(tmp_path / "config", '[bridge]\nport = 9000\nhost = "0.0.0.0"\n')
    settings = load_settings(environ={})
    assert (settings.port, settings.host) == (9000, "0.0.0.0")


def test_bridge_config_names_the_file(tmp_path):
    path = write_config(
        tmp_path,
        "[bridge]\n"
        'data_dir = "/srv/bridge"\n'
        'database_url = "postgresql+psycopg://u@db/bridge"\n'
        'public_url = "https://book.example.org/"\n'
        'log_level = "debug"\n',
        name="elsewhere.toml",
    )
    settings = load_settings(environ={"BRIDGE_CONFIG": str(path)})
    assert settings.data_dir == Path("/srv/bridge")
    assert settings.database_url == "postgresql+psycopg://u@db/bridge"
    assert settings.public_url == "https://book.example.org"
    assert settings.log_level == "DEBUG"
    assert not settings.is_embedded


def test_the_environment_overrides_the_file(tmp_path):
    path = write_config(tmp_path, "[bridge]\nport = 9000\nlog_level = 'ERROR'\n")
    settings = load_settings(environ={"BRIDGE_PORT": "9100"}, config_file=path)
    assert (settings.port, settings.log_level) == (9100, "ERROR")


def test_an_empty_environment_value_clears_an_optional_setting(tmp_path):
    path = write_config(tmp_path, "[bridge]\ndatabase_url = 'sqlite:///x.db'\n")
    settings = load_settings(environ={"BRIDGE_DATABASE_URL": ""}, config_file=path)
    assert settings.database_url is None


def test_a_file_without_a_bridge_section_changes_nothing(tmp_path):
    path = write_config(tmp_path, "[other]\nport = 1\n")
    assert load_settings(environ={}, config_file=path) == Settings()


@pytest.mark.parametrize(
    ("variable", "value", "option"),
    [
        ("BRIDGE_PORT", "eighty", "port"),
        ("BRIDGE_PORT", "70000", "port"),
        ("BRIDGE_PUBLIC_URL", "ftp://example.org", "public_url"),
        ("BRIDGE_PUBLIC_URL", "example.org", "public_url"),
        ("BRIDGE_LOG_LEVEL", "LOUD", "log_level"),
    ],
)
def test_a_bad_environment_value_names_option_and_variable(variable, value, option):
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={variable: value})
    assert failure.value.option == option
    assert failure.value.source == f"environment variable {variable}"
    assert option in str(failure.value) and variable in str(failure.value)


def test_a_bad_file_value_names_option_and_file(tmp_path):
    path = write_config(tmp_path, "[bridge]\nport = -1\n")
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={}, config_file=path)
    assert failure.value.option == "port"
    assert failure.value.source == f"{path} [bridge]"
    assert "0-65535" in failure.value.problem


def test_an_unknown_option_in_the_file_is_an_error(tmp_path):
    path = write_config(tmp_path, "[bridge]\nprot = 8080\n")
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={}, config_file=path)
    assert (failure.value.option, failure.value.problem) == ("prot", "unknown option")
    assert str(path) in failure.value.source


def test_unknown_bridge_environment_variables_are_ignored():
    assert load_settings(environ={"BRIDGE_TEST_POSTGRES_URL": "x"}) == Settings()


def test_a_file_that_is_not_toml_is_an_error(tmp_path):
    path = write_config(tmp_path, "[bridge\nport = \n")
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={}, config_file=path)
    assert failure.value.source == str(path)
    assert "invalid TOML" in failure.value.problem


def test_a_missing_file_named_by_bridge_config_is_an_error(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={"BRIDGE_CONFIG": str(missing)})
    assert (failure.value.option, failure.value.source) == ("BRIDGE_CONFIG", str(missing))


def test_with_overrides_applies_only_given_values():
    settings = Settings(port=9000)
    changed = settings.with_overrides(port=None, host="0.0.0.0")
    assert (changed.port, changed.host) == (9000, "0.0.0.0")
    assert settings.host == "127.0.0.1"
    assert settings.with_overrides() == settings


def test_the_effective_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=Path("var/data"))
    expected = tmp_path.resolve() / "var" / "data" / "bridge.sqlite3"
    assert settings.effective_database_url == f"sqlite:///{expected}"
    url = "postgresql+psycopg://u@db/bridge"
    assert Settings(database_url=url).effective_database_url == url


EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "bridge.example.toml"


def test_the_example_file_lists_every_option_with_its_default(tmp_path):
    names = {option.name for option in OPTIONS}
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    uncommented = [
        line[2:] if line.startswith("# ") and line[2:].split(" = ")[0] in names else line
        for line in lines
    ]
    listed = {line.split(" = ")[0] for line in uncommented if " = " in line and line[0] != "#"}
    assert listed == names
    path = write_config(tmp_path, "\n".join(uncommented) + "\n")
    assert load_settings(environ={}, config_file=path) == Settings()


def test_the_secret_key_setting_takes_several_keys_newest_first():
    newest, older = "n" * 32, "o" * 40
    settings = load_settings(environ={"BRIDGE_SECRET_KEY": f" {newest} , {older}"})
    assert settings.secret_key is not None
    assert settings.secret_key.keys == (newest, older)
    assert newest not in repr(settings) and older not in str(settings.secret_key)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("short-secret", "key 1 has 12 characters"), ("k" * 32 + ",,", "an entry is empty")],
)
def test_a_bad_secret_key_is_named_but_never_shown(value, problem):
    with pytest.raises(ConfigError) as failure:
        load_settings(environ={"BRIDGE_SECRET_KEY": value})
    assert failure.value.option == "secret_key"
    assert problem in failure.value.problem
    assert value.rstrip(",") not in str(failure.value)


def test_the_effective_public_url_falls_back_to_the_bound_address():
    assert Settings().effective_public_url == "http://127.0.0.1:8000"
    assert Settings(host="0.0.0.0", port=9000).effective_public_url == "http://127.0.0.1:9000"
    assert Settings(host="::", port=9000).effective_public_url == "http://[::1]:9000"
    public = Settings(public_url="https://book.example.org", port=9000)
    assert public.effective_public_url == "https://book.example.org"
