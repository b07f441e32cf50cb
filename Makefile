# Tianjie 田界 — the two commands (README): `make run` and `make test`.
.PHONY: run test services stop install lint typecheck bench bench-gis bench-applications

run:        ## install what is missing, start services, load the demo county, serve it
	@scripts/tj.sh run

test:       ## install what is missing, start services, run ruff and the whole test suite
	@scripts/tj.sh test

services:   ## start only the private PostgreSQL+PostGIS and Redis (idempotent)
	@scripts/tj.sh services

stop:       ## stop everything the project started
	@scripts/tj.sh stop

install:    ## install system, Python and npm packages only
	@scripts/tj.sh install

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

typecheck:
	.venv/bin/mypy .

bench:      ## benchmarks; figures go to docs/BENCHMARKS.md
	@scripts/tj.sh services && eval "$$(scripts/tj.sh env)" && DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/run.py

bench-gis:  ## OGC API pages vs tipg, imagery tiles vs titiler (needs the database `make bench` made)
	@scripts/tj.sh services && eval "$$(scripts/tj.sh env)" && DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/features_imagery.py

bench-applications:  ## inbox and list over 100,000 applications, 50 users with locust (the `make bench` database)
	@scripts/tj.sh services && eval "$$(scripts/tj.sh env)" && DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/applications.py
