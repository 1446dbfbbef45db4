"""Subcommands of ``sibai`` beyond the foundation's, one module per domain noun.

Each module defines ``add_commands(add)``; ``geo.cli`` finds the modules here
by itself, so a new command needs no edit elsewhere. Errors a person can act on
are raised as ``geo.cli.CliError`` (or ``ValueError`` / ``StoreError``): the
CLI prints one line and exits 1.
"""
