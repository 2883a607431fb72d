"""CLI commands, one module per group; importing a module registers its commands on kg.cli_app.app."""
