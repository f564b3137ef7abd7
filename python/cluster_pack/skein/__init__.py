"""YARN (skein) helpers: criteo's ``cluster_pack.skein.skein_config_builder``."""
