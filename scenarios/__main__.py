"""``python -m scenarios`` runs the sitesim command line."""

from scenarios.cli import main

main()
