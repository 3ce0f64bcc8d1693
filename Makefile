# Convenience aliases; the README's commands are scripts/run and scripts/test.
.PHONY: run test check bench
run:
	scripts/run
test:
	scripts/test
check:
	scripts/check
bench:
	scripts/bootstrap && .venv/bin/cos bench append
