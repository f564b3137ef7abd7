"""Spark helpers: criteo's ``cluster_pack.spark.spark_config_builder``."""
