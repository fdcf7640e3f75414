"""``python -m course_lib.export NAME FOLDER``: a course model as a TensorFlow.js layers model.

Writes ``FOLDER/model.json`` and its weight shards and prints the path of model.json. An unknown
model or a model that cannot be exported ends with the reason on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.export",
        description="Export a course model to TensorFlow.js's layers-model format.",
    )
    parser.add_argument("name", help="a course model, e.g. digits_cnn")
    parser.add_argument("folder", help="where model.json and its weight shards go")
    args = parser.parse_args(argv)

    from course_lib import zoo
    from course_lib.export.tfjs import save_tfjs_layers_model

    try:
        model = zoo.load_course_model(args.name, compile=False)
        path = save_tfjs_layers_model(model, args.folder)
    except (ValueError, FileNotFoundError) as error:
        print(f"python -m course_lib.export: error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
