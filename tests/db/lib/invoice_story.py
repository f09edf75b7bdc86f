#!/usr/bin/env python3
"""invoice_story.py DIR: Stripe webhooks of subscriptions an endpoint knows from
invoice events only, written to DIR one JSON file an event, in two API vintages
(2025-03-31.basil: lines under parent.subscription_item_details, prices under
pricing; 2024-06-20: type "subscription" lines and "invoiceitem" prorations with a
price object). Each subscription starts on Starter; DIR/expect.tsv says what a
finance person would state at the end (subscription, price, period start, end)."""
import json, os, sys

out = sys.argv[1]
D = 86400
T0 = 1780272000  # 2026-06-01T00:00:00Z
n = 0


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(vintage, sub, price, amount, start, end, proration):
    if vintage == "basil":
        return {"object": "line_item", "amount": amount, "currency": "usd", "quantity": 1,
                "period": {"start": start, "end": end},
                "parent": {"type": "subscription_item_details",
                           "subscription_item_details": {"subscription": sub, "subscription_item": "si_" + sub,
                                                         "proration": proration,
                                                         "proration_details": {"credited_items": None}}},
                "pricing": {"type": "price_details",
                            "price_details": {"price": price, "product": "prod_app"}}}
    return {"object": "line_item", "amount": amount, "currency": "usd", "quantity": 1,
            "type": "invoiceitem" if proration else "subscription", "subscription": sub,
            "proration": proration, "period": {"start": start, "end": end},
            "price": {"id": price, "object": "price", "product": "prod_app",
                      "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}}}


def invoice(vintage, sub, inv, typ, at, lines, status):
    global n
    n += 1
    total = sum(l["amount"] for l in lines)
    due = max(total, 0)  # a credit goes to the customer's balance
    o = {"id": inv, "object": "invoice", "customer": "cus_" + sub, "currency": "usd",
         "collection_method": "send_invoice", "status": status, "created": lines[0]["period"]["start"],
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
    ev = {"id": "evt_%s_%02d" % (sub, n), "object": "event", "type": typ, "created": at, "livemode": False,
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
    expect.append((s, "price_pro_m", iso(pe), iso(pe + 30 * D)))

    # B: the same before the renewal: paid on day 20, in the period it bills, after
    # the upgrade; the period's start is the Starter line's (a proration's is not one).
    s = "sub_%s_early" % v
    invoice(v, s, "in_%s_0" % s, "invoice.finalized", T0, full0(s), "open")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 10 * D, up(s, T0 + 10 * D), "paid")
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0 + 20 * D, full0(s), "paid")
    expect.append((s, "price_pro_m", iso(T0), iso(pe)))

    # C: upgraded on day 10, downgraded again on day 15; the upgrade's proration
    # invoice paid late, on day 20: the downgrade stands.
    s = "sub_%s_down" % v
    invoice(v, s, "in_%s_0" % s, "invoice.paid", T0, full0(s), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.finalized", T0 + 10 * D, up(s, T0 + 10 * D), "open")
    invoice(v, s, "in_%s_2" % s, "invoice.paid", T0 + 15 * D, down(s, T0 + 15 * D), "paid")
    invoice(v, s, "in_%s_1" % s, "invoice.paid", T0 + 20 * D, up(s, T0 + 10 * D), "paid")
    expect.append((s, "price_starter_m", iso(T0), iso(pe)))

with open(os.path.join(out, "expect.tsv"), "w") as f:
    for e in sorted(expect):
        f.write("\t".join(e) + "\n")
