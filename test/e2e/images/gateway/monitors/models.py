from django.db import models


class Monitor(models.Model):
    name = models.CharField(max_length=100, unique=True)
    url = models.URLField()
    interval_seconds = models.PositiveIntegerField(default=60)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name
