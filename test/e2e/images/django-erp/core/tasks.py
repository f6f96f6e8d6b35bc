from celery import shared_task


@shared_task(name="core.tasks.heartbeat")
def heartbeat():
    return "ok"
