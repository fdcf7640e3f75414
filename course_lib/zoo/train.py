"""Trains a course model, measures it on its held-out test set and writes its weights and JSON.

Usage::

    python -m course_lib.zoo.train shapes_cnn [--epochs N] [--seed S] [--out DIR]
    python -m course_lib.zoo.train digits_cnn

Without ``--out`` the files replace the shipped ones in ``course_lib/zoo/weights/``:
``<name>.weights.h5`` and ``<name>.json`` (the claimed test accuracy, the data seeds and sizes that
regenerate the test set, the class names and the training settings). Training is seeded and uses
deterministic kernels (``config.seed_everything(seed, deterministic_ops=True)``), so a rerun on
the same machine and versions repeats the figures. Each model trains in a few minutes on a CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from course_lib import checks, config
from course_lib.data import mnist, procedural
from course_lib.zoo import course_models

#: How the shapes_cnn's training and test sets are drawn (recorded in its JSON's ``data``).
SHAPES_DATA = {
    "source": course_models.PROCEDURAL_SHAPES,
    "image_size": procedural.DEFAULT_IMAGE_SIZE,
    "train_per_class": 400,
    "train_seed": 1,
    "test_per_class": 100,
    "test_seed": 2,
}


def load_training_data(name: str) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
    """A model's training set ``(images, labels)`` and the JSON ``data`` block describing it.

    ``shapes_cnn``: ``make_shapes_dataset`` with ``SHAPES_DATA``'s train seed and size.
    ``digits_cnn``: ``load_mnist()``'s training split scaled to [0, 1] (the real MNIST when cached
    or online, otherwise scikit-learn's digits; ``data["source"]`` records which).
    """
    course_models.course_model_spec(name)
    if name == course_models.SHAPES_CNN:
        data = dict(SHAPES_DATA)
        images, labels = procedural.make_shapes_dataset(
            data["train_per_class"], image_size=data["image_size"], seed=data["train_seed"]
        )
        data["test_size"] = data["test_per_class"] * procedural.NUM_SHAPE_CLASSES
        return (images, labels), data
    ((x_train, y_train), (x_test, _)), source = mnist.load_mnist(return_source=True)
    data = {
        "source": source,
        "image_size": mnist.IMAGE_SIZE,
        "train_size": len(x_train),
        "test_size": len(x_test),
    }
    if source == mnist.DIGITS:
        data["split_seed"] = mnist.DIGITS_SPLIT_SEED
    images = x_train.astype(np.float32) / np.float32(255.0)
    return (images, y_train.astype(np.int64)), data


def class_names(name: str) -> list[str]:
    """The class names, indexed by label."""
    if name == course_models.SHAPES_CNN:
        return list(procedural.SHAPE_CLASSES)
    return [str(digit) for digit in range(10)]


def train(
    name: str,
    epochs: int | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    verbose: int = 2,
) -> dict:
    """Trains ``name`` from scratch, evaluates it on its test set, writes weights and JSON.

    Args:
        name: a course model (``course_models.list_course_models()``).
        epochs: passes over the training set (default: the model's ``TrainingSettings``).
        out: folder for ``<name>.weights.h5`` and ``<name>.json`` (default: the shipped folder).
        seed: seed of the weights' initialization and of the batch order (default 0).
        verbose: Keras' ``fit`` verbosity (0 silent, 2 one line per epoch).

    Returns:
        The dict written to ``<name>.json``.
    """
    import keras

    spec = course_models.course_model_spec(name)
    settings = spec.training
    epochs = settings.epochs if epochs is None else epochs
    seed = settings.seed if seed is None else seed
    if not checks.is_int(epochs) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    out = Path(out or course_models.WEIGHTS_DIR)

    config.seed_everything(seed, deterministic_ops=True)
    (x_train, y_train), data = load_training_data(name)
    x_test, y_test = course_models.held_out_set(name, data)
    model = spec.build()
    course_models.compile_course_model(model, settings.learning_rate)
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=settings.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    test_accuracy = course_models.accuracy(model, x_test, y_test)

    import tensorflow as tf

    info = {
        "name": name,
        "description": spec.description,
        "test_accuracy": round(test_accuracy, 4),
        "accuracy_floor": spec.accuracy_floor,
        "class_names": class_names(name),
        "input_shape": [None if d is None else int(d) for d in model.input_shape[1:]],
        "value_range": [0.0, 1.0],
        "layer_names": list(spec.layer_names),
        "dream_layers": list(spec.dream_layers),
        "data": data,
        "training": {
            "epochs": epochs,
            "batch_size": settings.batch_size,
            "optimizer": "adam",
            "learning_rate": settings.learning_rate,
            "seed": seed,
            "train_size": len(x_train),
            "train_seconds": round(seconds, 1),
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "command": f"python -m course_lib.zoo.train {name} --epochs {epochs} --seed {seed}",
    }
    out.mkdir(parents=True, exist_ok=True)
    # Save the weights alone (a fresh, uncompiled copy leaves Adam's slots out: half the size).
    inference = spec.build()
    inference.set_weights(model.get_weights())
    inference.save_weights(course_models.weights_path(name, out))
    course_models.info_path(name, out).write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m course_lib.zoo.train NAME [--epochs N] [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.zoo.train",
        description="Train a course model, measure its test accuracy, write weights and JSON.",
    )
    parser.add_argument("name", choices=course_models.list_course_models())
    parser.add_argument("--epochs", type=int, default=None, help="default: the model's setting")
    parser.add_argument("--seed", type=int, default=None, help="default: 0")
    parser.add_argument(
        "--out", default=None, help=f"output folder (default: {course_models.WEIGHTS_DIR})"
    )
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    info = train(args.name, epochs=args.epochs, out=args.out, seed=args.seed)
    out = Path(args.out or course_models.WEIGHTS_DIR)
    weights, claims = (
        course_models.weights_path(args.name, out),
        course_models.info_path(args.name, out),
    )
    print(
        f"{info['name']}: test accuracy {info['test_accuracy']:.4f} on "
        f"{info['data']['test_size']} held-out images (floor {info['accuracy_floor']}), "
        f"trained in {info['training']['train_seconds']:.0f} s; wrote {weights} and {claims}"
    )
    return 0 if info["test_accuracy"] >= info["accuracy_floor"] else 1


if __name__ == "__main__":
    sys.exit(main())
