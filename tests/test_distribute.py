"""tf.distribute helpers: a two-worker cluster on loopback, logical CPUs, clean failures."""

from __future__ import annotations

import _thread
import json
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import psutil
import pytest
import tensorflow as tf

from course_lib.perf import distribute, workers

# Worker functions for the failure tests: a module the workers import by name (they inherit
# this process's sys.path). None of them imports TensorFlow, so the workers start quickly.
HELPERS = """
import os
import time


def _index():
    import json
    return json.loads(os.environ["TF_CONFIG"])["task"]["index"]


def echo(value):
    config = __import__("json").loads(os.environ["TF_CONFIG"])
    return {"index": config["task"]["index"], "cluster": config["cluster"], "value": value,
            "pid": os.getpid()}


def second_exits(code):
    if _index() == 1:
        os._exit(code)
    time.sleep(300)  # worker 0 would wait for its peer forever


def second_killed():
    if _index() == 1:
        os.kill(os.getpid(), 9)
    time.sleep(300)


def second_raises():
    if _index() == 1:
        raise ValueError("boom from the second worker")
    time.sleep(300)


def sleeps():
    time.sleep(300)
"""


@pytest.fixture(scope="module")
def helpers(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("worker_helpers")
    (folder / "course_worker_helpers.py").write_text(HELPERS)
    sys.path.insert(0, str(folder))
    yield "course_worker_helpers"
    sys.path.remove(str(folder))
    sys.modules.pop("course_worker_helpers", None)


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_two_workers_train_the_course_model_to_equal_weights():
    before = _children()
    start = time.monotonic()
    results = distribute.run_workers(
        distribute.course_model_worker, 2, timeout_s=120, args=(2, 64, 1024)
    )
    elapsed = time.monotonic() - start
    assert elapsed < 120
    assert [r["task_index"] for r in results] == [0, 1]
    assert all(r["num_replicas"] == 2 for r in results)
    first, second = (r["weights"] for r in results)
    assert [w.shape for w in first] == [(784, 128), (128,), (128, 10), (10,)]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    history = results[0]["history"]
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > 0.5
    assert _children() <= before
    assert not any(psutil.pid_exists(r["pid"]) for r in results)


def test_results_come_back_in_worker_order_with_a_loopback_cluster(helpers):
    results = distribute.run_workers(f"{helpers}:echo", 3, timeout_s=60, args=([1, 2],))
    assert [r["index"] for r in results] == [0, 1, 2]
    assert all(r["value"] == [1, 2] for r in results)
    workers = results[0]["cluster"]["worker"]
    assert len(set(workers)) == 3 and all(w.startswith("127.0.0.1:") for w in workers)
    assert all(r["cluster"]["worker"] == workers for r in results)


def test_a_crashing_worker_is_named_and_the_others_are_stopped(helpers):
    before = _children()
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"worker 1 of 2 exited with code 3"):
        distribute.run_workers(f"{helpers}:second_exits", 2, timeout_s=60, args=(3,))
    assert time.monotonic() - start < 30
    assert _children() <= before


def test_a_worker_killed_by_a_signal_is_named_with_the_signal(helpers):
    before = _children()
    with pytest.raises(RuntimeError, match=r"worker 1 of 2 was killed by SIGKILL"):
        distribute.run_workers(f"{helpers}:second_killed", 2, timeout_s=60)
    assert _children() <= before


def test_the_launcher_lives_in_workers_and_distribute_re_exports_it():
    assert distribute.run_workers is workers.run_workers
    assert distribute.tf_config is workers.tf_config
    assert distribute.HOST == workers.HOST == "127.0.0.1"


def test_a_raising_worker_reports_its_stderr(helpers):
    before = _children()
    with pytest.raises(RuntimeError, match="worker 1") as error:
        distribute.run_workers(f"{helpers}:second_raises", 2, timeout_s=60)
    assert "ValueError: boom from the second worker" in str(error.value)
    assert _children() <= before


def test_workers_past_the_time_limit_are_stopped(helpers):
    before = _children()
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"workers \[0, 1\] still running after 2 s"):
        distribute.run_workers(f"{helpers}:sleeps", 2, timeout_s=2)
    assert time.monotonic() - start < 20
    assert _children() <= before


def test_an_interrupted_run_stops_every_worker(helpers):
    before = _children()
    # interrupt_main does nothing where SIGINT is ignored (a run in the background).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.5, _thread.interrupt_main)  # as Ctrl-C in a notebook cell
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            distribute.run_workers(f"{helpers}:sleeps", 2, timeout_s=60)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert _children() <= before


def test_bad_arguments_are_refused_before_anything_starts(helpers):
    with pytest.raises(ValueError, match="num_workers must be >= 1"):
        distribute.run_workers(f"{helpers}:echo", 0)
    with pytest.raises(ValueError, match="timeout_s"):
        distribute.run_workers(f"{helpers}:echo", 1, timeout_s=0)
    with pytest.raises(ValueError, match="top level of an importable module"):
        distribute.run_workers(lambda: None, 1)
    with pytest.raises(ValueError, match="cannot be imported"):
        distribute.run_workers("no_such_module_here:train", 1)
    with pytest.raises(ValueError, match="one port per worker"):
        distribute.run_workers(f"{helpers}:echo", 2, ports=[12345])


def test_a_port_in_use_is_named(helpers):
    before = _children()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            free = spare.getsockname()[1]
        with pytest.raises(ValueError, match=f"127.0.0.1:{port} is already in use"):
            distribute.run_workers(f"{helpers}:echo", 2, ports=[free, port], args=(0,))
    assert _children() <= before


def test_explicit_free_ports_are_used(helpers):
    sockets = [socket.socket() for _ in range(2)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    results = distribute.run_workers(f"{helpers}:echo", 2, ports=ports, args=(None,))
    assert results[1]["cluster"]["worker"] == [f"127.0.0.1:{p}" for p in ports]


def test_tf_config_names_every_worker_and_the_task():
    config = distribute.tf_config([2222, 2223], 1)
    assert config == {
        "cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]},
        "task": {"type": "worker", "index": 1},
    }


def test_strategy_helpers_check_their_arguments():
    with pytest.raises(TypeError, match="strategy"):
        distribute.build_and_compile_under("mirrored")
    with pytest.raises(TypeError, match="dataset"):
        distribute.train_with_strategy(tf.distribute.get_strategy(), [1, 2], 1)
    dataset = tf.data.Dataset.from_tensor_slices((np.zeros((4, 28, 28)), np.zeros(4))).batch(2)
    with pytest.raises(ValueError, match="epochs"):
        distribute.train_with_strategy(tf.distribute.get_strategy(), dataset, 0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        distribute.mirrored_strategy_on_logical_cpus(0)


def test_too_late_for_logical_devices_is_a_clear_error():
    tf.constant(1.0)  # this process's devices are initialized
    current = tf.config.get_logical_device_configuration(tf.config.list_physical_devices("CPU")[0])
    n = (len(current) if current else 1) + 1
    with pytest.raises(RuntimeError, match="already initialized its devices"):
        distribute.mirrored_strategy_on_logical_cpus(n)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf
    from course_lib import config, data
    from course_lib.basics import training
    from course_lib.perf import distribute

    strategy = distribute.mirrored_strategy_on_logical_cpus(2)
    config.seed_everything(0)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train, x_test = (x_train / 255.0).astype("float32"), (x_test / 255.0).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train.astype("int64"))).batch(64)
    model, history = distribute.train_with_strategy(strategy, dataset, 3)
    loop_accuracy = training.accuracy(model(x_test), y_test)
    fitted = distribute.build_and_compile_under(strategy)
    fitted.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    _, fit_accuracy = fitted.evaluate(x_test, y_test, verbose=0)
    again = distribute.mirrored_strategy_on_logical_cpus(2)
    try:
        distribute.mirrored_strategy_on_logical_cpus(3)
        late = ""
    except RuntimeError as error:
        late = str(error)
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "again": again.num_replicas_in_sync,
        "loss": history["loss"],
        "loop_accuracy": float(loop_accuracy),
        "fit_accuracy": float(fit_accuracy),
        "late": late,
    }))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_trains_the_course_model(tmp_path):
    # Logical devices must be configured before TensorFlow initializes its devices, which this
    # pytest process has done: run in a fresh interpreter.
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2 and report["again"] == 2
    assert [d.split("/")[-1] for d in report["devices"]] == ["device:CPU:0", "device:CPU:1"]
    assert report["loss"][-1] < report["loss"][0]
    assert report["loop_accuracy"] > 0.85 and report["fit_accuracy"] > 0.85
    assert "already initialized its devices" in report["late"]
