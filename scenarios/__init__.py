"""Case studies (installed as gridflex.scenarios)."""
