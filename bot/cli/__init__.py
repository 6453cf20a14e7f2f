"""`python -m bot ...`: the project's command line."""
