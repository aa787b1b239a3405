"""Runtime backends: each one loads an artifact and runs it, nothing else."""
