"""The application secret: where it comes from, sub-keys per purpose, rotation, wrong keys."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from bridge import keys
from bridge.errors import ConfigError
from bridge.settings import SecretKeys, Settings

OLD = "old-key-" + "o" * 32
NEW = "new-key-" + "n" * 32


def keyring(*secret_keys: str) -> keys.Keyring:
    return keys.Keyring(secret_keys, source="test")


def test_encrypt_then_decrypt_gives_the_plaintext_back():
    ring = keyring(NEW)

    token = ring.encrypt("feed-tokens", "s3cret")

    assert "s3cret" not in token
    assert ring.decrypt("feed-tokens", token) == "s3cret"


def test_each_purpose_has_its_own_key():
    ring = keyring(NEW)
    token = ring.encrypt("feed-tokens", "s3cret")

    with pytest.raises(keys.UndecryptableSecret) as failure:
        ring.decrypt("connector-credentials", token)

    assert failure.value.purpose == "connector-credentials"
    assert keys.derive_key(NEW, "a") != keys.derive_key(NEW, "b")
    assert keys.derive_key(NEW, "a") != keys.derive_key(OLD, "a")
    assert keys.derive_key(NEW, "a") == keys.derive_key(NEW, "a")


def test_data_encrypted_with_the_old_key_still_decrypt_after_a_new_key_is_put_first():
    token = keyring(OLD).encrypt("feed-tokens", "s3cret")
    rotated = keyring(NEW, OLD)

    assert rotated.decrypt("feed-tokens", token) == "s3cret"
    assert not rotated.is_current("feed-tokens", token)
    reencrypted = rotated.reencrypt("feed-tokens", token)
    assert rotated.is_current("feed-tokens", reencrypted)
    # Once re-encrypted, the old key can go.
    assert keyring(NEW).decrypt("feed-tokens", reencrypted) == "s3cret"


def test_new_data_are_encrypted_with_the_newest_key():
    token = keyring(NEW, OLD).encrypt("feed-tokens", "s3cret")

    assert keyring(NEW).decrypt("feed-tokens", token) == "s3cret"
    with pytest.raises(keys.UndecryptableSecret):
        keyring(OLD).decrypt("feed-tokens", token)


@pytest.mark.parametrize("damaged", ["", "not a fernet token", "gAAAAA" + "x" * 80, "ü"])
def test_a_wrong_key_or_damaged_data_raise_undecryptable_secret(damaged):
    token = keyring(OLD).encrypt("feed-tokens", "s3cret")

    with pytest.raises(keys.UndecryptableSecret, match="no longer configured"):
        keyring(NEW).decrypt("feed-tokens", token)
    with pytest.raises(keys.UndecryptableSecret):
        keyring(NEW).decrypt("feed-tokens", damaged)


def test_the_keyring_never_shows_its_keys():
    ring = keyring(NEW, OLD)

    assert NEW not in repr(ring) and OLD not in repr(ring)
    assert NEW not in repr(SecretKeys((NEW,))) and NEW not in str(SecretKeys((NEW,)))
    assert NEW not in repr(Settings(secret_key=SecretKeys((NEW,))))


def test_the_setting_wins_over_the_key_file(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key=SecretKeys((NEW, OLD)))

    ring = keys.load_keyring(settings)

    assert ring.source == "BRIDGE_SECRET_KEY"
    assert keyring(NEW).decrypt("p", ring.encrypt("p", "x")) == "x"
    assert not (tmp_path / keys.KEY_FILE_NAME).exists()


def test_the_embedded_default_creates_a_private_key_file_on_first_use(tmp_path):
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)

    first = keys.load_keyring(settings)
    path = data_dir / keys.KEY_FILE_NAME
    second = keys.load_keyring(settings)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.source == str(path)
    assert second.decrypt("p", first.encrypt("p", "x")) == "x"
    key_lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert len(key_lines) == 1 and len(key_lines[0]) >= 32
    assert [p.name for p in data_dir.iterdir()] == [keys.KEY_FILE_NAME]  # no temporary left


def test_concurrent_first_uses_agree_on_one_key(tmp_path):
    settings = Settings(data_dir=tmp_path)
    barrier = threading.Barrier(8)
    rings: list[keys.Keyring] = []

    def first_use() -> None:
        barrier.wait()
        rings.append(keys.load_keyring(settings))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    token = rings[0].encrypt("p", "x")
    assert len(rings) == 8
    assert all(ring.decrypt("p", token) == "x" for ring in rings)


def test_the_key_file_rotates_with_a_new_first_line(tmp_path):
    path = tmp_path / keys.KEY_FILE_NAME
    path.write_text(f"# comment\n{OLD}\n")
    path.chmod(0o600)
    token = keys.load_keyring(Settings(data_dir=tmp_path)).encrypt("p", "x")

    path.write_text(f"{NEW}\n\n{OLD}\n")
    ring = keys.load_keyring(Settings(data_dir=tmp_path))

    assert ring.decrypt("p", token) == "x"
    assert not ring.is_current("p", token)


def test_a_key_file_readable_by_others_is_used_with_a_warning(tmp_path, caplog):
    path = tmp_path / keys.KEY_FILE_NAME
    path.write_text(f"{NEW}\n")
    path.chmod(0o644)

    keys.load_keyring(Settings(data_dir=tmp_path))

    assert "chmod 600" in caplog.text and NEW not in caplog.text


@pytest.mark.parametrize(
    ("content", "problem"),
    [("# only a comment\n\n", "holds no key"), ("too-short\n", "key 1 has 9 characters")],
)
def test_an_unusable_key_file_is_a_config_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / keys.KEY_FILE_NAME
    path.write_text(content)

    with pytest.raises(ConfigError) as failure:
        keys.load_keyring(Settings(data_dir=tmp_path))

    assert failure.value.source == str(path)
    assert problem in failure.value.problem
    assert "too-short" not in str(failure.value)


def test_an_unreadable_key_file_is_a_missing_key(tmp_path):
    (tmp_path / keys.KEY_FILE_NAME).mkdir()  # a directory where the file should be

    with pytest.raises(keys.SecretKeyMissing, match="cannot read the key file"):
        keys.load_keyring(Settings(data_dir=tmp_path))


def test_an_external_database_needs_the_setting_and_creates_no_file(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u@db/bridge")

    with pytest.raises(keys.SecretKeyMissing) as failure:
        keys.load_keyring(settings)

    assert failure.value.option == "secret_key"
    assert "BRIDGE_SECRET_KEY" in str(failure.value)
    assert isinstance(failure.value, ConfigError)
    assert list(tmp_path.iterdir()) == []


def test_read_key_file_without_create_does_not_make_one(tmp_path: Path):
    with pytest.raises(keys.SecretKeyMissing):
        keys.read_key_file(tmp_path / "absent.key")

    assert list(tmp_path.iterdir()) == []
