"""The `cos` command: the one entry point people use to run, operate and audit Community OS."""
