"""Benchmark for the applications issue: the inbox and the application list at county scale, and 50
concurrent users on the read pages.

    make bench-applications        # = bench/applications.py; the 500,000-parcel county of `make bench`

It needs the private services and the bench database `tianjie_bench` (made by `make bench`, or here if it
is missing). Into it go 100,000 applications over the county's households and their parcels (seeded;
states, deadlines and townships spread as in a busy year), then, in one run:

  * latency: each read page and API call, for the village, township and county officers, timed over
    HTTP with keep-alive against gunicorn as `make bench` runs it (1 process, 1 thread), 1 warm-up pass
    and `--rounds` timed passes; the inbox's own SQL is timed on a plain database cursor as its floor;
  * load: locust (its own virtualenv, bench/requirements-locust.txt) with 50 users for `--seconds`
    against gunicorn as deployed (deploy/gunicorn.conf.py: 2 × cores + 1 processes, 4 threads each),
    every user logged in as one of the officers and reading the pages in a loop with no think time.

Results go to bench/out/applications.json and are printed as the tables of docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from run import (
    DB,
    OUT,
    ROOT,
    bench_env,
    generate,
    pct,
    psql_args,
    session_cookie,
    sh,
    start_gunicorn,
    time_http,
    wait_http,
)

APPLICATIONS = 100_000
OFFICERS = ("village", "township", "county")
USERS = (*OFFICERS, "farmer")  # a household sees its own: the list, by its code or as the other party


def seed(n: int) -> dict:
    """n applications spread over the current households (one of its parcels each), created over the
    last year; open ones have a deadline between 20 days ago and 20 days ahead."""
    have = sh(*psql_args(), "-tAc", "select count(*) from approvals_application", DB, capture=True).strip()
    if have == str(n):
        return {"applications": n, "seeded_s": None}
    t0 = time.monotonic()
    sql = f"""
    BEGIN;
    DELETE FROM approvals_step; DELETE FROM approvals_material; DELETE FROM approvals_changerecord;
    DELETE FROM approvals_application;
    SELECT setseed(0.42);
    CREATE TEMP TABLE h AS
      SELECT row_number() OVER (ORDER BY c.cbfbm) AS i, c.cbfbm, min(cp.dkbm) AS dkbm
      FROM contracts_contract ct JOIN contracts_contractor c ON c.id = ct.contractor_id
      JOIN contracts_contractparcel cp ON cp.contract_id = ct.id
      WHERE ct.valid_to IS NULL GROUP BY c.cbfbm;
    INSERT INTO approvals_application
      (code, business, cbfbm, fbfbm, dkbms, summary, change_data, state, returned_from, step_due,
       applicant_id, created_at, updated_at, staged)
    SELECT 'YW450326' || lpad(g::text, 10, '0'),
           (ARRAY['1031','1032','1033','1021','104','105','201','1011'])[1 + (g % 8)],
           h.cbfbm, substr(h.cbfbm, 1, 14), jsonb_build_array(h.dkbm), '基准测试申请 ' || g, '{{}}'::jsonb,
           s.state, '',
           CASE WHEN s.state IN ('filed','rejected','withdrawn') THEN NULL
                ELSE current_date + (floor(random() * 41) - 20)::int END,
           (SELECT id FROM accounts_user WHERE username = 'farmer'),
           now() - (random() * interval '365 days'), now() - (random() * interval '30 days'), '{{}}'::jsonb
    FROM generate_series(1, {n}) g
    JOIN h ON h.i = 1 + (g * 7919) % (SELECT count(*) FROM h)
    CROSS JOIN LATERAL (SELECT (ARRAY['draft','issuer_review','issuer_review','township_review','township_review',
        'county_review','county_review','surveying','township_rereview','approved','contract_publicity','signing',
        'returned','rejected','withdrawn','filed','filed','filed','filed','filed'])[1 + floor(random() * 20)::int]
        AS state WHERE g > 0) s;
    INSERT INTO approvals_step (application_id, actor_id, action, from_state, to_state, comment, attachments, at)
    SELECT id, applicant_id, 'created', 'draft', 'draft', '', '[]'::jsonb, created_at FROM approvals_application;
    COMMIT;
    ANALYZE approvals_application; ANALYZE approvals_step;
    """
    sh(*psql_args(), "-v", "ON_ERROR_STOP=1", "-c", sql, DB)
    return {"applications": n, "seeded_s": round(time.monotonic() - t0, 1)}


def django_setup() -> None:
    os.environ.update(TIANJIE_DB_NAME=DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def visible_codes(username: str, k: int = 20) -> list[str]:
    from accounts.models import User
    from approvals.selectors import applications_visible

    rows = applications_visible(User.objects.get(username=username)).order_by("-created_at")
    return list(rows.values_list("code", flat=True)[:k])


def paths_for(username: str) -> dict[str, list[str]]:
    codes = visible_codes(username)
    paths = {
        "inbox + list page /applications/": ["/applications/"],
        "API inbox /api/applications/inbox/": ["/api/applications/inbox/"],
        "API list /api/applications/": ["/api/applications/"],
        "API list, one state": ["/api/applications/?state=township_review"],
    }
    if codes:
        paths["application page"] = [f"/applications/{c}/" for c in codes[:10]]
    return paths


def inbox_sql_ms(username: str, rounds: int) -> list[float]:
    """The inbox's own SQL (its first page) on a plain database cursor: the floor for the page and the API."""
    from django.db import connection

    from accounts.models import User
    from approvals.selectors import inbox

    sql, params = inbox(User.objects.get(username=username))[:100].query.sql_with_params()
    times = []
    with connection.cursor() as cur:
        for _ in range(rounds + 1):
            t0 = time.perf_counter()
            cur.execute(sql, params)
            cur.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return times[1:]


def peer_tool(name: str, requirements: str, tool: str) -> str:
    """A tool of a peer's own virtualenv, made on first use from its pinned requirements."""
    venv = ROOT / ".tianjie" / f"bench-{name}"
    if not (venv / "bin" / tool).exists():
        sh(sys.executable, "-m", "venv", str(venv))
        sh(str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / requirements))
    return str(venv / "bin" / tool)


def latency(rounds: int) -> dict:
    web = start_gunicorn(bench_env())
    out: dict = {}
    try:
        wait_http(18001, "/healthz")
        for who in USERS:
            headers = {"Cookie": session_cookie(who)}
            out[who] = {}
            for label, paths in paths_for(who).items():
                time_http(18001, paths, headers)  # warm-up
                times: list[float] = []
                for _ in range(rounds):
                    t, _sizes = time_http(18001, paths * max(1, 20 // len(paths)), headers)
                    times += t
                out[who][label] = {"n": len(times), "p50": round(pct(times, 0.5), 1), "p95": round(pct(times, 0.95), 1)}
            if who not in OFFICERS:
                continue  # a household's inbox is empty: no SQL to time
            floor = inbox_sql_ms(who, 20)
            out[who]["inbox SQL on a database cursor (floor)"] = {
                "n": len(floor),
                "p50": round(pct(floor, 0.5), 2),  # ms
                "p95": round(pct(floor, 0.95), 2),
            }
    finally:
        web.terminate()
        web.wait()
    return out


LOCUSTFILE = """
import random
from locust import HttpUser, task

USERS = {users}


class Officer(HttpUser):
    def on_start(self):
        self.who = random.choice(list(USERS))
        self.client.headers["Cookie"] = USERS[self.who]["cookie"]
        self.codes = USERS[self.who]["codes"]

    @task(3)
    def page(self):
        self.client.get("/applications/", name="/applications/")

    @task(3)
    def inbox(self):
        self.client.get("/api/applications/inbox/", name="/api/applications/inbox/")

    @task(2)
    def api_list(self):
        self.client.get("/api/applications/?state=county_review", name="/api/applications/?state=")

    @task(3)
    def one(self):
        self.client.get("/applications/%s/" % random.choice(self.codes), name="/applications/<code>/")

    @task(1)
    def geo(self):
        self.client.get("/applications/%s/parcels.geojson" % random.choice(self.codes), name="parcels.geojson")
"""


def load(users: int, seconds: int) -> dict:
    """50 users against gunicorn as deployed; locust's own statistics, with every failure counted."""
    locust = peer_tool("locust", "bench/requirements-locust.txt", "locust")
    roster = {who: {"cookie": session_cookie(who), "codes": visible_codes(who)} for who in OFFICERS}
    (OUT / "locustfile.py").write_text(LOCUSTFILE.format(users=json.dumps(roster)))
    env = dict(bench_env())
    web = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "-c",
            str(ROOT / "deploy/gunicorn.conf.py"),
            "-b",
            "127.0.0.1:18003",
            "--access-logfile",
            str(OUT / "access.log"),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_http(18003, "/healthz")
        prefix = OUT / "locust"
        sh(
            locust,
            "-f",
            str(OUT / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "-H",
            "http://127.0.0.1:18003",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        )
    finally:
        web.terminate()
        web.wait()
    import csv

    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    return {
        r["Name"]: {
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "p50": float(r["50%"]),
            "p95": float(r["95%"]),
            "rps": round(float(r["Requests/s"]), 1),
        }
        for r in rows
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--applications", type=int, default=APPLICATIONS)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    generate(500_000, keep=True)
    sh(sys.executable, "manage.py", "migrate", "-v", "0", env=bench_env())
    result: dict = {"seed": seed(args.applications)}
    # statistics for indexes a migration added since the seed (expression indexes have their own)
    sh(*psql_args(), "-c", "ANALYZE approvals_application", DB)
    django_setup()
    result["latency"] = latency(args.rounds)
    result["load"] = load(args.users, args.seconds)
    (OUT / "applications.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result["seed"]))
    print("\n| user | request | n | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for who, rows in result["latency"].items():
        for label, r in rows.items():
            print(f"| {who} | {label} | {r['n']} | {r['p50']} | {r['p95']} |")
    print("\n| request | requests | failures | p50 ms | p95 ms | req/s |\n|---|---|---|---|---|---|")
    for name, r in result["load"].items():
        print(f"| {name} | {r['requests']} | {r['failures']} | {r['p50']} | {r['p95']} | {r['rps']} |")


if __name__ == "__main__":
    main()
