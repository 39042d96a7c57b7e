"""Administration of the configurable rule parameters (DOMAIN marks them **configurable**)."""
