#!/usr/bin/env python3
"""Checks the geocoder fixtures against the demo pizzerias (no database needed).

Reads the pizzerias and the customers' addresses from samples/demo.sql and the
fixtures from samples/addresses.json, prints which pizzerias deliver to each
fixture (haversine distance <= delivery_radius_m, as the application does), and
fails if the design no longer holds:
  * every pizzeria and demo customer address has a fixture with the same coordinates;
  * every open pizzeria serves at least 3 fixtures besides its own address;
  * at least one fixture is served by two open pizzerias;
  * at least 4 fixtures are outside every zone (open or not).

Usage: python3 samples/check_zones.py
"""
import json
import math
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
EARTH_RADIUS_M = 6_371_000


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def main():
    sql = (HERE / "demo.sql").read_text(encoding="utf-8")
    fixtures = json.loads((HERE / "addresses.json").read_text(encoding="utf-8"))

    # (id, 'name', 'line1', 'postcode', 'city', 'phone', lat, lon, radius, fee, min, 'status', ...
    row = re.compile(
        r"^\((\d+), '((?:[^']|'')*)', '((?:[^']|'')*)', '(\d+)', '((?:[^']|'')*)', '[^']*', "
        r"(-?\d+\.\d+), (-?\d+\.\d+), (\d+), \d+, \d+, '(\w+)'", re.M)
    pizzerias = [
        dict(id=int(m[1]), name=m[2].replace("''", "'"), line1=m[3], lat=float(m[6]),
             lon=float(m[7]), radius=int(m[8]), status=m[9])
        for m in row.finditer(sql)
    ]
    customers = [
        dict(line1=m[1], lat=float(m[2]), lon=float(m[3]))
        for m in re.finditer(r"SELECT u\.id, '[^']*', '([^']*)', '\d+', '[^']*', (-?\d+\.\d+), (-?\d+\.\d+)", sql)
    ]
    errors = []
    if len(pizzerias) != 8:
        errors.append(f"expected 8 pizzerias in demo.sql, parsed {len(pizzerias)}")
    if len(customers) != 5:
        errors.append(f"expected 5 customer addresses in demo.sql, parsed {len(customers)}")

    def fixture_at(line1, lat, lon):
        return [f for f in fixtures if f["line1"] == line1
                and abs(f["latitude"] - lat) < 1e-6 and abs(f["longitude"] - lon) < 1e-6]

    for p in pizzerias:
        if not fixture_at(p["line1"], p["lat"], p["lon"]):
            errors.append(f"no fixture for pizzeria {p['id']} at {p['line1']}")
    for c in customers:
        if not fixture_at(c["line1"], c["lat"], c["lon"]):
            errors.append(f"no fixture for customer address {c['line1']}")

    served_count = {p["id"]: 0 for p in pizzerias if p["status"] == "active"}
    outside, shared = [], []
    for f in fixtures:
        hits = []
        for p in pizzerias:
            d = haversine_m(f["latitude"], f["longitude"], p["lat"], p["lon"])
            if d <= p["radius"]:
                hits.append((p, d))
        open_hits = [(p, d) for p, d in hits if p["status"] == "active"]
        own = any(d < 1 for _, d in hits)
        for p, d in open_hits:
            if d >= 1:
                served_count[p["id"]] += 1
        if len(open_hits) >= 2:
            shared.append(f["query"])
        if not hits:
            outside.append(f["query"])
        label = ", ".join(
            f"{p['id']} ({d:.0f} m{'' if p['status'] == 'active' else ', ' + p['status']})"
            for p, d in hits) or "OUTSIDE EVERY ZONE"
        print(f"{f['query']:<55} -> {label}{'   [pizzeria]' if own else ''}")

    print()
    for pid, n in served_count.items():
        print(f"pizzeria {pid}: {n} fixtures inside its zone besides its own address")
        if n < 3:
            errors.append(f"pizzeria {pid} serves only {n} fixtures")
    print(f"served by two open pizzerias: {len(shared)}; outside every zone: {len(outside)}")
    if not shared:
        errors.append("no fixture is served by two open pizzerias")
    if len(outside) < 4:
        errors.append(f"only {len(outside)} fixtures outside every zone")
    queries = [f["query"].lower() for f in fixtures]
    if len(set(queries)) != len(queries):
        errors.append("duplicate queries")

    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
