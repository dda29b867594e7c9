# Airflow image of the AANS analytics stack: the official Airflow 3.3.2 image plus the project's
# pinned requirements. DAGs, include/, plugins/, sql/ and config/ are mounted by docker-compose,
# so code changes need no rebuild; only a change of requirements.txt does.
FROM apache/airflow:3.3.2-python3.11

COPY requirements.txt /opt/aans/requirements.txt
# requirements.txt pins apache-airflow==3.3.2 itself, so pip cannot move Airflow to another version.
RUN pip install --no-cache-dir -r /opt/aans/requirements.txt
