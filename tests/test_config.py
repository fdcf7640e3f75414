import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from course_lib import config


def test_seed_everything_repeats_numpy_and_tensorflow_draws():
    import tensorflow as tf

    config.seed_everything(7)
    first = (np.random.rand(3), tf.random.uniform([3]).numpy())
    config.seed_everything(7)
    second = (np.random.rand(3), tf.random.uniform([3]).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), ("3", TypeError)])
def test_seed_everything_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        config.seed_everything(seed)


@pytest.fixture
def fresh_online_cache():
    config.is_online.cache_clear()
    yield
    config.is_online.cache_clear()


def test_is_online_honours_course_offline(monkeypatch, fresh_online_cache):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setattr(config, "PROBE_HOSTS", (("127.0.0.1", 1),))
    assert config.is_online() is False


def test_is_online_true_when_a_probe_host_answers(monkeypatch, fresh_online_cache):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        monkeypatch.setattr(config, "PROBE_HOSTS", (("127.0.0.1", server.getsockname()[1]),))
        assert config.is_online(timeout=1.0) is True


def test_is_online_false_when_nothing_answers(monkeypatch, fresh_online_cache):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setattr(config, "PROBE_HOSTS", (("127.0.0.1", closed_port),))
    assert config.is_online(timeout=1.0) is False


def test_profile_defaults_to_quick_and_rejects_unknown(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert config.profile() == "quick"
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert config.profile() == "full"
    monkeypatch.setenv("COURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="COURSE_PROFILE"):
        config.profile()


def test_announce_prints_each_message_once(capsys):
    config.announce("offline test notice 1")
    config.announce("offline test notice 1")
    assert capsys.readouterr().out == "offline test notice 1\n"


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}
    )


def test_importing_course_lib_quiets_tensorflow_before_it_loads():
    result = _run(
        "import course_lib, os, tensorflow as tf; tf.constant(1) + 1;"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TF_ENABLE_ONEDNN_OPTS'])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 0"
    assert "oneDNN" not in result.stderr and "I0000" not in result.stderr


def test_importing_course_lib_without_tensorflow_names_the_extra():
    result = _run("import sys; sys.modules['tensorflow'] = None; import course_lib")
    assert result.returncode != 0
    assert "course_lib[cpu]" in result.stderr and "course_lib[gpu]" in result.stderr
