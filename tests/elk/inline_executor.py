"""An executor for tests: runs each workload at once, through Airflow's real task supervisor.

It is LocalExecutor without its worker processes: `supervise_task` forks the task process, writes
the task's log file and uploads it with the configured remote log handler, exactly as on a
worker. Only the Execution API is served in-process (`InProcessExecutionAPI`) instead of by an
api-server, so no port and no token are needed.
"""

from airflow.executors.base_executor import BaseExecutor


class InlineExecutor(BaseExecutor):
    is_local = True
    serve_logs = False

    def _process_workloads(self, workloads) -> None:
        from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor, supervise_task

        for workload in workloads:
            self.queued_tasks.pop(workload.key, None)
            self.running.add(workload.key)
            exit_code = supervise_task(
                ti=workload.ti,
                bundle_info=workload.bundle_info,
                dag_rel_path=workload.dag_rel_path,
                token=workload.token,
                log_path=workload.log_path,
                client=InProcessTestSupervisor._api_client(),
            )
            if exit_code == 0:
                self.success(workload.key)
            else:
                self.fail(workload.key)

    def sync(self) -> None:
        pass  # every workload has finished when _process_workloads returns

    def end(self) -> None:
        pass

    def terminate(self) -> None:
        pass
