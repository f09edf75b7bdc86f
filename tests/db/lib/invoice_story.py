#!/usr/bin/env python3
"""invoice_story.py DIR: Stripe webhooks of subscriptions an endpoint knows from
invoice events only, written to DIR one JSON file an event, in two API vintages
(2025-03-31.basil: lines under parent.subscription_item_details, prices under
pricing; 2024-06-20: type "subscription" lines and "invoiceitem" prorations with a
price object). Each subscription starts on Starter; DIR/expect.tsv says what a
finance person would state at the end (subscription, price, quantity, period
start, end)."""
import json, os, sys

out = sys.argv[1]
D = 86400
T0 = 1780272000  # 2026-06-01T00:00:00Z
n = 0


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(vintage, sub, price, amount, start, end, proration, qty=1):
    if vintage == "basil":
        return {"object": "line_item", "amount": amount, "currency": "usd", "quantity": qty,
                "period": {"start": start, "end": end},
                "parent": {"type": "subscription_item_details",
                           "subscription_item_details": {"subscription": sub, "subscription_item": "si_" + sub,
                                                         "proration": proration,
                                                         "proration_details": {"credited_items": None}}},
                "pricing": {"type": "price_details",
                            "price_details": {"price": price, "product": "prod_app"}}}
    return {"object": "line_item", "amount": amount, "currency": "usd", "quantity": qty,
            "type": "invoiceitem" if proration else "subscription", "subscription": sub,
            "proration": proration, "period": {"start": start, "end": end},
            "price": {"id": price, "object": "price", "product": "prod_app",
                      "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}}}


def invoice(vintage, sub, inv, typ, at, lines, status, made=None, eid=None):
    """An event of type typ at time at about invoice inv, made at made (default: when
    its first line starts, as an invoice for a period or a change is), with lines."""
    global n
    n += 1
    total = sum(l["amount"] for l in lines)
    due = max(total, 0)  # a credit goes to the customer's balance
    o = {"id": inv, "object": "invoice", "customer": "cus_" + sub, "currency": "usd",
         "collection_method": "send_invoice", "status": status,
         "created": made if made is not None else lines[0]["period"]["start"],
         "amount_due": due, "amount_paid": due if status == "paid" else 0,
         "amount_remaining": 0 if status == "paid" else due, "subtotal": total, "total": total,
         "customer_email": sub + "@example.com",
         "lines": {"object": "list", "data": lines, "has_more": False}}
    if vintage == "basil":
        o["parent"] = {"type": "subscription_details", "subscription_details": {"subscription": sub}}
    else:
        o["subscription"] = sub
    if status == "paid":
        o["status_transitions"] = {"paid_at": at, "finalized_at": o["created"]}
    ev = {"id": eid or "evt_%s_%02d" % (sub, n), "object": "event", "type": typ, "created": at, "livemode": False,
          "api_version": "2025-03-31.basil" if vintage == "basil" else "2024-06-20",
          "data": {"object": o}}
    with open(os.path.join(out, "%s_%02d.json" % (sub, n)), "w") as f:
        json.dump(ev, f)


expect = []
for v in ("basil", "legacy"):
    pe = T0 + 30 * D
    full0 = lambda s: [line(v, s, "price_starter_m", 1900, T0, pe, False)]
    up = lambda s, at: [line(v, s, "price_starter_m", -1267, at, pe, True),
                        line(v, s, "price_pro_m", 3267, at, pe, True)]
    down = lambda s, at: [line(v, s, "price_pro_m", -2450, at, pe, True),
                          line(v, s, "price_starter_m", 950, at, pe, True)]

    # A: the Starter invoice of the first period, finalized at once and paid late (net
    # 30, by bank transfer) after the upgrade to Pro (billed at once) and the renewal.
    s = "sub_%s_late" % v
    invoice(v, s, "in_%s_0" % s, "invoice.finalized", T0, full0(s), "open")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 10 * D, up(s, T0 + 10 * D), "paid")
    invoice(v, s, "in_%s_2" % s, "invoice.paid", pe + 3600,
            [line(v, s, "price_pro_m", 4900, pe, pe + 30 * D, False)], "paid")
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0 + 35 * D, full0(s), "paid")
    expect.append((s, "price_pro_m", "1", iso(pe), iso(pe + 30 * D)))

    # B: the same before the renewal: paid on day 20, in the period it bills, after
    # the upgrade; the period's start is the Starter line's (a proration's is not one).
    s = "sub_%s_early" % v
    invoice(v, s, "in_%s_0" % s, "invoice.finalized", T0, full0(s), "open")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 10 * D, up(s, T0 + 10 * D), "paid")
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0 + 20 * D, full0(s), "paid")
    expect.append((s, "price_pro_m", "1", iso(T0), iso(pe)))

    # C: upgraded on day 10, downgraded again on day 15; the upgrade's proration
    # invoice paid late, on day 20: the downgrade stands.
    s = "sub_%s_down" % v
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0, full0(s), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.finalized", T0 + 10 * D, up(s, T0 + 10 * D), "open")
    invoice(v, s, "in_%s_2" % s, "invoice.paid", T0 + 15 * D, down(s, T0 + 15 * D), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 20 * D, up(s, T0 + 10 * D), "paid")
    expect.append((s, "price_starter_m", "1", iso(T0), iso(pe)))

    # D: upgraded on day 10; on day 12 support downgrades again, the proration dated
    # back to day 8 (proration_date, when the customer asked): the downgrade stands.
    s = "sub_%s_backdated" % v
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0, full0(s), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 10 * D, up(s, T0 + 10 * D), "paid")
    invoice(v, s, "in_%s_2" % s, "invoice.paid", T0 + 12 * D, down(s, T0 + 8 * D), "paid",
            made=T0 + 12 * D)
    expect.append((s, "price_starter_m", "1", iso(T0), iso(pe)))

    # E: two changes in one second, each billed at once (the plan, then the seats: two
    # invoices made in the same second), paid two and four seconds on. The later
    # payment's event has the smaller (random) id: its time, not its id, says it is later.
    s = "sub_%s_tie" % v
    c = T0 + 10 * D
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0, full0(s), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", c + 2, up(s, c), "paid", eid="evt_zz_%s" % s)
    invoice(v, s, "in_%s_2" % s, "invoice.paid", c + 4,
            [line(v, s, "price_pro_m", -3267, c, pe, True), line(v, s, "price_pro_m", 9801, c, pe, True, 3)],
            "paid", eid="evt_00_%s" % s)
    expect.append((s, "price_pro_m", "3", iso(T0), iso(pe)))

    # F: A's late payment without the upgrade: every invoice on Starter, so one batch
    # merges them (no price change calls for a recompute). The first period's invoice,
    # paid late after the renewal, was made before it: the renewal's period stands.
    s = "sub_%s_same" % v
    invoice(v, s, "in_%s_0" % s, "invoice.finalized", T0, full0(s), "open")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", pe + 3600,
            [line(v, s, "price_starter_m", 1900, pe, pe + 30 * D, False)], "paid")
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0 + 35 * D, full0(s), "paid")
    expect.append((s, "price_starter_m", "1", iso(pe), iso(pe + 30 * D)))

with open(os.path.join(out, "expect.tsv"), "w") as f:
    for e in sorted(expect):
        f.write("\t".join(e) + "\n")
