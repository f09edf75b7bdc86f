#!/usr/bin/env python3
"""histories.py FIXTURES OUTDIR SEED [N]: random histories the benchmark's generator never
makes (bench/gen.c is tame: audit X), as dumps fetch-events reads. Hotmart subscribers with
purchases, plan switches, charge-date changes, cancellations, refunds and chargebacks at
colliding instants, buyer e-mails that change, plans with and without a recurrency period;
Stripe customers whose e-mail changes, charges with same-instant events; and redeliveries,
the same copy or one with other content (another e-mail, plan, time, transaction, status),
in a later dump. Writes OUTDIR/dN.json and OUTDIR/recv.tsv (each dump and its arrival).
Built from the fixtures' payloads (audit-G2's generator, kept as a test)."""
import copy, json, os, random, sys

FX, OUT, SEED = sys.argv[1], sys.argv[2], int(sys.argv[3])
NSUB = int(sys.argv[4]) if len(sys.argv) > 4 else 6
R = random.Random(SEED)
os.makedirs(OUT, exist_ok=True)
RECV = ["2026-12-01T08:00:00Z", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"]
M = 1790000000000  # Hotmart's times are ms
PLANS = {1038897: 30, 1038898: 360, 1038899: 90}  # plan id -> recurrency_period (days)
PURCH = {"PURCHASE_APPROVED": "APPROVED", "PURCHASE_DELAYED": "DELAYED", "PURCHASE_REFUNDED": "REFUNDED",
         "PURCHASE_CHARGEBACK": "CHARGEBACK", "PURCHASE_PROTEST": "DISPUTE", "PURCHASE_COMPLETE": "COMPLETED",
         "PURCHASE_CANCELED": "CANCELED"}
files = {}
n = 0


def fx(p):
    return json.load(open(os.path.join(FX, p)))


def emit(fi, e):
    files.setdefault(fi, []).append(e)


def eid(p):
    global n
    n += 1
    return "%s-%s%03d" % (p, R.choice("ABCXYZ"), n)  # ids whose order is not the time's


def purchase(i, ms, event, tx, plan, sub_status, email, period, price, code):
    e = fx("hotmart/purchase_approved.json")
    e.pop("hottok", None)
    e["id"], e["creation_date"], e["event"] = i, ms, event
    d = e["data"]
    d["buyer"]["email"], d["buyer"]["name"] = email, email.split("@")[0]
    pu = d["purchase"]
    pu["transaction"], pu["status"] = tx, PURCH[event]
    pu["price"]["value"] = pu["full_price"]["value"] = pu["original_offer_price"]["value"] = price
    pu["approved_date"], pu["date_next_charge"] = ms - 5000, ms + 86400000 * 30
    s = d["subscription"]
    s["status"], s["plan"]["id"], s["subscriber"]["code"] = sub_status, plan, code
    if period is not None:
        s["plan"]["recurrency_period"] = period
    return e


def switch(i, ms, new, old, code, email):
    e = fx("hotmart/switch_plan.json")
    e["id"], e["creation_date"] = i, ms
    d = e["data"]
    d["switch_plan_date"] = ms - 100
    d["subscription"]["subscriber_code"], d["subscription"]["user"]["email"] = code, email
    d["subscription"]["date_next_charge"] = ms + 86400000 * 20
    d["plans"] = [{"id": old, "name": "old", "offer": {"key": "o1"}, "current": False},
                  {"id": new, "name": "new", "offer": {"key": "o2"}, "current": True}]
    return e


def about_subscriber(fixture, i, ms, code, email, plan):
    e = fx(fixture)
    e["id"], e["creation_date"] = i, ms
    d = e["data"]
    d["subscriber"]["code"], d["subscriber"]["email"], d["subscriber"]["name"] = code, email, email.split("@")[0]
    if "cancellation_date" in d:
        d["cancellation_date"] = ms - 10
        d["subscription"]["plan"]["id"] = plan
    else:
        d["subscription"]["date_next_charge"] = ms + 86400000 * 25
        d["plan"]["id"] = plan
    return e


for s in range(NSUB):
    code = "S%02d" % s
    times = sorted(M + s * 10000000 + 1000 * R.randint(0, 4) for _ in range(8))
    emails = ["%s.a@x.com" % code.lower(), "%s.b@x.com" % code.lower()]
    plan, txs = R.choice(list(PLANS)), []
    for t in times:
        em, k = R.choice(emails), R.random()
        if k < 0.35 or not txs:
            ev = R.choice(["PURCHASE_APPROVED", "PURCHASE_APPROVED", "PURCHASE_DELAYED", "PURCHASE_COMPLETE"])
            tx = "T%s_%d" % (code, len(txs))
            txs.append(tx)
            per = PLANS[plan] if R.random() < 0.7 else None
            i = eid("p")
            st = "DELAYED" if ev == "PURCHASE_DELAYED" else R.choice(["ACTIVE", "DELAYED"])
            e = purchase(i, t, ev, tx, plan, st, em, per, R.choice([19.9, 199.0]), code)
        elif k < 0.5:
            old, plan = plan, R.choice([p for p in PLANS if p != plan])
            e = switch(eid("w"), t, plan, old, code, em)
        elif k < 0.6:
            e = about_subscriber("hotmart/update_subscription_charge_date.json", eid("d"), t, code, em, plan)
        elif k < 0.7:
            e = about_subscriber("hotmart/subscription_cancellation.json", eid("c"), t, code, em, plan)
        else:
            ev = R.choice(["PURCHASE_REFUNDED", "PURCHASE_CHARGEBACK", "PURCHASE_PROTEST", "PURCHASE_CANCELED"])
            tx = R.choice(txs)
            i = eid("r")
            e = purchase(i, t, ev, tx, plan, R.choice(["ACTIVE", "CANCELLED_BY_CUSTOMER"]), em, None, 19.9, code)
        fi = R.randrange(3)
        emit(fi, e)
        if R.random() < 0.3:  # a redelivery, in this dump or a later one
            c, m = copy.deepcopy(e), R.random()
            if m < 0.2 and "buyer" in c["data"]:
                c["data"]["buyer"]["email"] = "other." + c["data"]["buyer"]["email"]
                c["data"]["purchase"]["price"]["value"] = 1.0
            elif m < 0.4 and "purchase" in c["data"]:
                other = R.choice(list(PLANS))
                c["data"]["subscription"]["plan"]["id"] = other
                c["data"]["subscription"]["plan"]["recurrency_period"] = PLANS[other]
            elif m < 0.55:
                c["creation_date"] += R.choice([-1000, 1000, 2000])
            elif m < 0.7 and "purchase" in c["data"]:
                c["data"]["subscription"]["subscriber"]["code"] = code + "x"
                c["data"]["purchase"]["transaction"] += "x"
            elif m < 0.8 and "purchase" in c["data"]:
                c["data"]["subscription"]["status"] = "CANCELLED_BY_ADMIN"
            emit(R.randrange(fi, 4), c)


def charge(i, t, typ, chid, amount, refunded, status, email, cid):
    e = fx("stripe/charge.succeeded.json")
    e["id"], e["created"], e["type"] = i, t, typ
    o = e["data"]["object"]
    o["id"], o["amount"], o["amount_captured"], o["amount_refunded"] = chid, amount, amount, refunded
    o["refunded"], o["status"], o["customer"] = refunded == amount, status, cid
    o["billing_details"]["email"], o["invoice"], o["payment_intent"] = email, None, "pi_" + chid
    if status == "failed":
        o["failure_code"], o["paid"], o["captured"], o["amount_captured"] = "card_declined", False, False, 0
    return e


def customer(i, t, typ, email, cid):
    e = fx("stripe/customer.created.json")
    e["id"], e["created"], e["type"] = i, t, typ
    o = e["data"]["object"]
    o["id"], o["email"], o["name"] = cid, email, email.split("@")[0]
    return e


for c in range(NSUB):
    cid, base = "cus_R%02d" % c, 1790000000 + c * 100000
    for j in range(4):  # two updates may share a second
        typ = "customer.created" if j == 0 else "customer.updated"
        emit(R.randrange(4), customer(eid("evt_cu"), base + 10 * R.randint(0, 2), typ, "%s.%d@x.com" % (cid, j), cid))
    for k in range(2):
        ch, t = "ch_R%02d_%d" % (c, k), base + 100 + k
        for j in range(R.randint(2, 4)):
            typ, st, ref = R.choice([("charge.succeeded", "succeeded", 0), ("charge.refunded", "succeeded", 500),
                                     ("charge.refunded", "succeeded", 1000), ("charge.failed", "failed", 0),
                                     ("charge.pending", "pending", 0)])
            emit(R.randrange(4), charge(eid("evt_ch"), t + R.randint(0, 1), typ, ch, 1000, ref, st,
                                        "card%d@x.com" % j, cid))

with open(os.path.join(OUT, "recv.tsv"), "w") as r:
    for fi, evs in sorted(files.items()):
        name = "d%d.json" % fi
        with open(os.path.join(OUT, name), "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
        r.write("%s\t%s\n" % (name, RECV[fi]))
