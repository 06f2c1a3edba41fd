# OC Pizza — the two commands, and the operations' ones.
# Everything here installs what it is missing on a fresh machine.

.PHONY: run test fuzz bench lint fmt backup restore lambdas sqlx

## run: the whole system locally on demo data (Ctrl-C stops it)
run:
	bash infra/local/run.sh

## test: every test against real MariaDB, SQS server and localstripe
test:
	bash infra/local/test.sh

## fuzz: only the fuzz tests, 5000 cases per target (FUZZ_CASES=…, FUZZ_SEED=…)
fuzz:
	bash infra/local/fuzz.sh

## bench: release-build benchmarks, one table of figures
bench:
	bash infra/local/bench.sh

## lambdas: every function built for AWS (release, arm64, zip), with sizes
lambdas:
	bash infra/local/lambdas.sh

## backup: dump the local database (DB=ocpizza) to .run/backups/ (or FILE=…)
backup:
	bash infra/local/backup.sh

## restore: replace the local database (DB=ocpizza) with a dump: make restore FILE=…
restore:
	bash infra/local/restore.sh

## lint: formatting, clippy and the compile-time SQL cache, as CI runs them
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	bash infra/local/sqlx.sh check

## sqlx: after changing a query or a migration, rewrite the SQL cache (.sqlx/)
sqlx:
	bash infra/local/sqlx.sh prepare

fmt:
	cargo fmt --all
