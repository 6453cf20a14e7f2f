"""Developer tools: the stack supervisor, evaluation, calibration, comparison, benchmark."""
