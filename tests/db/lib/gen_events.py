#!/usr/bin/env python3
"""gen_events.py N [SEED] [PAYLOAD_BYTES]: N synthetic Stripe-like events as the
loader reads them (normalize --emit-raw: each raw envelope, then its canonical
event), for the database tests and the load benchmark. Deterministic per seed."""
import json, random, sys

n = int(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
rnd = random.Random(seed)
pad = int(sys.argv[3]) if len(sys.argv) > 3 else 200
ncust = max(1, n // 10)
prices = ["price_starter_m", "price_pro_m", "price_team_y"]
out = sys.stdout
base = 1793527200  # 2026-11-01T10:00:00Z
# Invoices' partial subscription sections come from a second generator, so the
# rest of the data is what earlier versions of this script made.
rnd2 = random.Random("invoice sections %d" % seed)
# and the time each invoice was made (invoiced_at) from a third, unrelated to the
# event's own: an invoice paid late was made before the events around it
rnd3 = random.Random("invoiced at %d" % seed)

def ts(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

for i in range(n):
    c = rnd.randrange(ncust)
    cus, sub = "cus_%06d" % c, "sub_%06d" % c
    t = base + rnd.randrange(30 * 86400)
    eid = "evt_%08d" % i
    kind = rnd.random()
    customer = {"id": cus, "email": "user%d@example.com" % c if rnd.random() < 0.8 else None,
                "name": ("User %d" % c) if rnd.random() < 0.5 else None, "phone": None, "country": "US"}
    payment = subscription = None
    status, reason = "processed", None
    if kind < 0.45:
        ptype, ctype = "invoice.paid", "payment.succeeded"
        payment = {"id": "in_%08d" % i, "object": "invoice", "invoice_id": "in_%08d" % i, "subscription_id": sub,
                   "amount_minor": rnd.choice([2900, 9900, 29900]), "currency": "USD", "status": "succeeded",
                   "method": "card", "installments": None, "failure_code": None, "discount_minor": None,
                   "refunded_minor": None, "due_at": None, "paid_at": ts(t)}
        if rnd2.random() < 0.6:
            # a partial section: some fields, the others null; a third of them name a
            # subscription that only invoices ever name (its fields filled one by one)
            isub = sub if rnd2.random() < 0.66 else "isub_%06d" % c
            vals = {"price_id": rnd2.choice(prices), "product_id": "prod_app",
                    "status": rnd2.choice(["active", "past_due"]), "interval": "month", "interval_count": 1,
                    "quantity": rnd2.randrange(1, 5), "current_period_start": ts(t),
                    "current_period_end": ts(t + 30 * 86400), "cancel_at_period_end": rnd2.random() < 0.5,
                    "canceled_at": ts(t), "trial_end": ts(t + 7 * 86400), "cancel_at": ts(t + 20 * 86400)}
            subscription = {"id": isub, "plan_code": None}
            subscription.update((k, v if rnd2.random() < 0.5 else None) for k, v in vals.items())
            subscription["invoiced_at"] = ts(base + rnd3.randrange(30 * 86400)) if rnd3.random() < 0.7 else None
            payment["subscription_id"] = isub
    elif kind < 0.85:
        ptype, ctype = "customer.subscription.updated", "subscription.updated"
        subscription = {"id": sub, "price_id": rnd.choice(prices), "product_id": "prod_app", "plan_code": None,
                        "status": rnd.choice(["active", "active", "past_due", "canceled"]), "interval": "month",
                        "interval_count": 1, "quantity": rnd.randrange(1, 5), "current_period_start": ts(t),
                        "current_period_end": ts(t + 30 * 86400), "cancel_at_period_end": False,
                        "canceled_at": None, "trial_end": None,
                        "cancel_at": ts(t + 20 * 86400) if rnd2.random() < 0.3 else None,
                        "invoiced_at": None}
    elif kind < 0.95:
        ptype, ctype = "customer.updated", "customer.upserted"
    elif kind < 0.98:
        ptype, ctype, status, reason = "invoice.upcoming", None, "ignored", "unsupported event type 'invoice.upcoming'"
        customer = None
    else:
        ptype, ctype, status, reason = "charge.refunded", "payment.refunded", "failed", "missing field 'data.object.amount'"
        customer = None
    src = "dumps/gen.ndjson:%d" % (i + 1)
    payload = {"id": eid, "object": "event", "api_version": "2024-06-20", "created": t, "livemode": False,
               "type": ptype, "data": {"object": {"id": cus, "object": "customer", "metadata": {"pad": "x" * pad}}}}
    raw = {"record": "raw", "provider": "stripe", "external_event_id": eid, "event_type": ptype,
           "project_id": "bench", "occurred_at": ts(t), "received_at": ts(t + 2), "source": src, "payload": payload}
    ev = {"record": "event", "schema_version": 1, "provider": "stripe", "external_event_id": eid,
          "project_id": "bench", "event_type": ctype, "provider_event_type": ptype, "status": status,
          "reason": reason, "occurred_at": ts(t), "received_at": ts(t + 2), "source": src, "livemode": False,
          "customer": customer, "payment": payment, "subscription": subscription}
    out.write(json.dumps(raw, separators=(",", ":")) + "\n")
    out.write(json.dumps(ev, separators=(",", ":")) + "\n")
