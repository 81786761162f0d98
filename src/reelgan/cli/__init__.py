"""The command-line tool: one module per command; each has `add_parser(subparsers)` and `run(args)`."""
