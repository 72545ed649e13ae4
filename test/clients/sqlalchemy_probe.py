"""psycopg2 + SQLAlchemy probe for the Fedgres client harness (run by python-client.ts).

Usage: /usr/bin/python3 sqlalchemy_probe.py   with FEDGRES_SERVER='{"host":..,"port":..,"user":..,
"password":..,"database":..,"tls":bool}' in the environment. Prints one JSON object per check:
{"check": name, "ok": true, ...data} or {"check": name, "ok": false, "error": "..."}.
It reports what the libraries saw; the TypeScript side decides what is correct.
"""
import json
import os
import sys

import psycopg2
from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.engine import URL

server = json.loads(os.environ["FEDGRES_SERVER"])
sslmode = "require" if server["tls"] else "disable"


def report(name, fn):
    try:
        out = {"check": name, "ok": True}
        out.update(fn())
    except Exception as e:  # every failure is data for the TS side
        out = {"check": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(out), flush=True)


def connect():
    return psycopg2.connect(host=server["host"], port=server["port"], user=server["user"], password=server["password"],
                            dbname=server["database"], sslmode=sslmode, application_name="fedgres-python-probe",
                            connect_timeout=10)


def psycopg2_basics():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select %s::text, %s::int4, %s", ("O'Reilly", 42, ["a", "b'c", None]))
        row = cur.fetchone()
        return {"server_version": conn.server_version, "row": list(row), "ssl": conn.info.ssl_in_use}


def server_side_cursor():
    conn = connect()
    try:
        # A named cursor is DECLARE ... CURSOR WITHOUT HOLD FOR ... inside the implicit transaction.
        with conn.cursor(name="c1") as cur:
            cur.itersize = 100
            cur.execute("select g from generate_series(1, %s) g", (1000,))
            first = cur.fetchmany(10)
            rest = [r[0] for r in cur]
        conn.commit()
        values = [r[0] for r in first] + rest
        return {"rows": len(values), "sum": sum(values), "first": values[:3], "last": values[-1]}
    finally:
        conn.close()


engine = create_engine(
    URL.create("postgresql+psycopg2", username=server["user"], password=server["password"], host=server["host"],
               port=server["port"], database=server["database"]),
    connect_args={"sslmode": sslmode, "application_name": "fedgres-sqlalchemy-probe", "connect_timeout": 10},
)


def reflection():
    insp = inspect(engine)
    columns = insp.get_columns("alerts")
    return {
        "schemas": insp.get_schema_names(),
        "tables": insp.get_table_names(),
        "fedgres_tables": insp.get_table_names(schema="fedgres") + insp.get_view_names(schema="fedgres"),
        "columns": [[c["name"], c["type"].compile(dialect=engine.dialect), c["nullable"]] for c in columns],
        "pk": insp.get_pk_constraint("alerts")["constrained_columns"],
    }


def autoload():
    alerts = Table("alerts", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(select(alerts.c.time, alerts.c.edge_id, alerts.c.event_data)
                            .where(alerts.c.severity > 5).order_by(alerts.c.time.desc()).limit(10)).fetchall()
        quoted = conn.execute(text("select :who as who, cast(:who as varchar) || '!' as shout"), {"who": "O'Reilly"}).one()
    return {"columns": [c.name for c in alerts.columns], "rows": len(rows), "quoted": list(quoted)}


report("psycopg2", psycopg2_basics)
report("serverSideCursor", server_side_cursor)
report("reflection", reflection)
report("autoload", autoload)
engine.dispose()
sys.exit(0)
