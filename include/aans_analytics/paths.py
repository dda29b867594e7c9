"""Where the project keeps its files, resolved from this package so any working directory works."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = PROJECT_ROOT / "sql"
# Everything the embedded default creates at run time (database, Airflow home, reports) lives here.
LOCAL_DIR = PROJECT_ROOT / ".local"
