from django.db import models


class Item(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    quantity = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sku


class MigrationRun(models.Model):
    """One row per run of migration 0003: proves the migrations ran exactly once."""

    migration = models.CharField(max_length=100)
    hostname = models.CharField(max_length=255)
    ran_at = models.DateTimeField(auto_now_add=True)
