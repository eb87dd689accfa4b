"""The command line: one module per subcommand; errors become exit codes in main.py only."""
