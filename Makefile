# OC Pizza — the two commands, and the operations' ones.
# Everything here installs what it is missing on a fresh machine.

.PHONY: run test bench lint fmt

## run: the whole system locally on demo data (Ctrl-C stops it)
run:
	bash infra/local/run.sh

## test: every test against real MariaDB, SQS server and localstripe
test:
	bash infra/local/test.sh

## bench: release-build benchmarks, one table of figures
bench:
	bash infra/local/bench.sh

## lint: formatting and clippy, as CI runs them
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all
