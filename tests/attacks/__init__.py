"""Attack rows, one module per area; collected by test_hostile_repos.py and test_hostile_inputs.py."""
