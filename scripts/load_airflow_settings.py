"""Load airflow_settings.yaml into the Airflow metadata database, as `astro dev start` would.

    .venv/bin/python scripts/load_airflow_settings.py [--file airflow_settings.yaml]

Uses the Airflow of the current environment (AIRFLOW_HOME and friends); `make run` and `make up`
call the same code with the project's local Airflow. Safe to run any number of times: entries are
created or updated, never duplicated, and entries the file does not name are left alone.
"""

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from aans_analytics import airflow_env  # noqa: E402  (needs the path above)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=airflow_env.SETTINGS_FILE)
    parser.add_argument(
        "--local-dir",
        type=Path,
        default=airflow_env.LOCAL_DIR,
        help="folder of the embedded default, for an aans_postgres host of .local/pgdata",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    settings = airflow_env.read_settings(args.file)
    target = airflow_env.postgres_target(settings, airflow_env.LocalLayout(args.local_dir))
    counts = airflow_env.load_settings(settings, target)
    logging.getLogger(__name__).info(
        "%s: %s connections, %s variables, %s pools loaded into %s",
        args.file.name,
        counts["connections"],
        counts["variables"],
        counts["pools"],
        "the Airflow metadata database",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
