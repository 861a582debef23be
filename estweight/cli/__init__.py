"""The estweight command line (absl) and what it builds from configs."""
