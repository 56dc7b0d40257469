from tests.services import celery_worker_process, smtp_server, worker_site_url

__all__ = ["celery_worker_process", "smtp_server", "worker_site_url"]
