"""`python -m service.cli`: the same as the `citewise` command."""

from service.cli.app import main

main()
