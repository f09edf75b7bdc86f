# extract.jq: the zcat | jq baseline of bench/run. From a raw Stripe event or
# Hotmart 2.0.0 webhook, pull what normalize needs most: the provider's event
# id, type and time, the amount (minor units) and currency, the customer's id
# and e-mail, the subscription id and the price (or plan) id.
if .object == "event" then
  .data.object as $o
  | {provider: "stripe", id, type, created,
     amount: ($o.total // $o.amount // $o.amount_total),
     currency: ($o.currency | if . then ascii_upcase else . end),
     customer: (if $o.object == "customer" then $o.id else $o.customer end),
     email: ($o.customer_email // $o.email // $o.receipt_email
             // $o.customer_details.email // $o.billing_details.email),
     subscription: (if $o.object == "subscription" then $o.id else $o.subscription end),
     price: ($o.items.data[0].price.id // $o.lines.data[0].price.id)}
else
  .data as $d
  | {provider: "hotmart", id, type: .event, created: .creation_date,
     amount: ($d.purchase.price.value // $d.actual_recurrence_value
              | if . then . * 100 | round else . end),
     currency: $d.purchase.price.currency_value,
     customer: ($d.subscription.subscriber.code // $d.subscriber.code
                // $d.subscription.subscriber_code),
     email: ($d.buyer.email // $d.subscriber.email // $d.subscription.user.email // $d.user.email),
     subscription: ($d.subscription.subscriber.code // $d.subscriber.code
                    // $d.subscription.subscriber_code),
     price: (($d.subscription.plan.id // ($d.plans // [] | map(select(.current))[0].id))
             | if . then tostring else . end)}
end
