/*
 * load/statements.c: the SQL of a batch, load's alone (src/load.c runs it).
 * The scratch tables a session stages a batch in (stage_sql), the COPYs into
 * them, the upserts that take the staged rows into the schema's tables, in
 * order, and the two queries read back once they ran (count_sql,
 * not_kept_sql). Text only, built at compile time from the macros below: no
 * value is ever pasted into it (the records go through COPY). Until stop 50
 * it was part of src/load.c, as sql/'s comments still say of its macros
 * (PAY_STAGE, SUB_RANK, CUS_AUTH, FILL_AT, ...).
 */
#include "statements.h"


/* ON COMMIT DELETE ROWS: each transaction (a batch) starts with them empty,
 * emptied in place; a TRUNCATE per batch made new files for each of them, and
 * the file system's inode bookkeeping was 5% of the server's time. */
#define PER_BATCH " ON COMMIT DELETE ROWS;"
const char stage_sql[] =
	"CREATE TEMP TABLE stage_raw (seq integer, provider text, external_event_id text,"
	" project_id text, event_type text, occurred_at timestamptz, received_at timestamptz,"
	" source text, payload jsonb)" PER_BATCH
	"CREATE TEMP TABLE stage_ev (seq integer, provider text, external_event_id text,"
	" project_id text, event_type text, provider_event_type text, status text, reason text,"
	" occurred_at timestamptz, received_at timestamptz, source text, customer_id text,"
	" subscription_id text, payment_id text, price_id text, plan_code text, event jsonb)" PER_BATCH
	/* the raw and log rows the batch inserted or changed (the summary counts, freshness) */
	"CREATE TEMP TABLE stage_changed (kind \"char\", provider text, external_event_id text,"
	" ins boolean, project_id text, received_at timestamptz,"
	/* a raw row's: it now holds an earlier copy than the one replaced, and that
	 * copy's content is the same (DELIVERY_KEYS aside) */
	" moved boolean, same boolean)" PER_BATCH
	/* the normalized rows the batch inserted or changed ('n'), and what changed rows
	 * named before ('o'): the input of the customer, subscription and payment updates */
	"CREATE TEMP TABLE stage_norm (kind \"char\", ins boolean, provider text,"
	" external_event_id text, project_id text, status text, event_type text,"
	" occurred_at timestamptz, customer_id text, subscription_id text, payment_id text, email text, name text,"
	" phone text, country text, sub jsonb, cus_as_of timestamptz)" PER_BATCH
	/* the batch's raw records received after the stored copy of their event,
	 * with other content: not kept (seq), and the source of the copy kept; or
	 * received before it (replaced), and the source of the copy replaced */
	"CREATE TEMP TABLE stage_kept (seq integer, kept text, replaced boolean)" PER_BATCH
	/* customers ('c'), subscriptions ('s') and payments ('p') recomputed from their stored events */
	"CREATE TEMP TABLE stage_full (kind \"char\", project_id text, provider text, id text)" PER_BATCH
	/* lz4 here too: cheaper than pglz to write, and the compressed payload is copied as is */
	"DO $$ BEGIN ALTER TABLE stage_raw ALTER COLUMN payload SET COMPRESSION lz4;"
	" EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; END $$";

const char copy_raw_sql[] =
	"COPY stage_raw (seq, provider, external_event_id, project_id, event_type, occurred_at,"
	" received_at, source, payload) FROM STDIN";
const char copy_ev_sql[] =
	"COPY stage_ev (seq, provider, external_event_id, project_id, event_type,"
	" provider_event_type, status, reason, occurred_at, received_at, source, customer_id,"
	" subscription_id, payment_id, price_id, plan_code, event) FROM STDIN";

/*
 * The upserts, in order. Raw, normalized and log rows keep the earliest
 * received copy of an event (least received_at, then source) and take new
 * content when a re-run brings it; state tables take the latest event by
 * (occurred_at, external_event_id): a maximum, so any order ends the same.
 *
 * Customers, subscriptions and payments are updated incrementally from the
 * events the batch inserted: every field is a maximum over a total order, and the row
 * keeps the stamp (occurred_at, event id) of the event that gave it, so the
 * new events are merged with the row alone (a subscription no subscription.*
 * event has set yet keeps a stamp per field: invoices fill its fields one by
 * one). Where that is not exact they are recomputed from every stored event
 * (stage_full): an event whose stored content changed (a re-run after a
 * normalizer fix), for what it names now and what it named before.
 */
/* a window over a whole partition, read in the window's order: aggregates over
 * it see each key's events in that order (one sort per window, where an
 * ordered aggregate sorts every group again for every field) */
#define WHOLE " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
/*
 * The copy an event's rows keep is the first received (least received_at,
 * then source): a raw row stored by an earlier run, when earlier than the
 * batch's copy, gives its received_at and source to a canonical event or a
 * log row inserted now (an event that failed then and is processed now, one
 * whose raw envelope came alone), as a clean load of both copies would. Only
 * events whose raw row this batch did not write are looked up, one key probe
 * each (a NOT IN of a hashed subplan gates it): a fresh load probes nothing.
 */
/* A copy's place in the order of arrival after its received_at: its source
 * (file:line) with the line a number, file:9 before file:10 (as text, :10 came
 * first: of two copies in one dump, the later was kept), the text before the
 * number (the file's name and its ':') in byte order, then the whole text (a total order: equal keys, equal sources). */
#define SRC_KEY(x) " rtrim(" x ", '0123456789') COLLATE \"C\", length(" x "), " x " COLLATE \"C\""
/* an upsert's incoming copy (EXCLUDED) arrived before the stored one (t) */
#define EARLIER_COPY "(EXCLUDED.received_at," SRC_KEY("EXCLUDED.source") ") < (t.received_at," SRC_KEY("t.source") ")"
/* and the row keeps the first received copy's time and source */
#define KEEP_FIRST_COPY                                                \
	" received_at = LEAST(t.received_at, EXCLUDED.received_at),"   \
	" source = CASE WHEN " EARLIER_COPY " THEN EXCLUDED.source ELSE t.source END"
/* the event of stage table s's row is not one whose raw row this batch wrote
 * (stage_changed kind 'r'): only those are looked up in the stored tables, so
 * a fresh load probes nothing (a NOT IN of a hashed subplan) */
#define RAW_NOT_WRITTEN(s)                                                                    \
	" (" s ".provider, " s ".external_event_id) NOT IN (SELECT provider, external_event_id" \
	" FROM stage_changed WHERE kind = 'r')"
#define FIRST_COPY(s) " coalesce(fc.received_at, " s ".received_at), coalesce(fc.source, " s ".source)"
#define FIRST_COPY_JOIN(s)                                                                        \
	" LEFT JOIN LATERAL (SELECT r.received_at, r.source FROM external_events_raw r"                 \
	" WHERE" RAW_NOT_WRITTEN(s) " AND (r.provider, r.external_event_id) ="                          \
	" (" s ".provider, " s ".external_event_id) AND (r.received_at," SRC_KEY("r.source") ") <"        \
	" (" s ".received_at," SRC_KEY(s ".source") ") LIMIT 1) fc ON true"
/* does the proposed row's stamp for f beat the stored one? */
#define STAMP_NEWER(occ, id)                                                            \
	"(EXCLUDED." id " IS NOT NULL AND (t." id " IS NULL OR"                               \
	" (EXCLUDED." occ ", EXCLUDED." id ") > (t." occ ", t." id ")))"
#define NEWER(f) STAMP_NEWER(f "_occurred_at", f "_event_id")
/* column c: the batch's value when cond holds, else the stored one */
#define TAKE(cond, c) "CASE WHEN " cond " THEN EXCLUDED." c " ELSE t." c " END"
#define PICK(cond, c) " " c " = " TAKE(cond, c) ","
/* a customer's field: its stamp leads with whether a customer.* event of Stripe gave it
 * (CUS_AUTH), so such an event's value beats any other event's */
#define CNEWER(f)                                                                     \
	"(EXCLUDED." f "_event_id IS NOT NULL AND (t." f "_event_id IS NULL OR"             \
	" (EXCLUDED." f "_auth, EXCLUDED." f "_occurred_at, EXCLUDED." f "_event_id) >"      \
	" (t." f "_auth, t." f "_occurred_at, t." f "_event_id)))"
#define MERGE(f) PICK(CNEWER(f), f) PICK(CNEWER(f), f "_occurred_at") PICK(CNEWER(f), f "_event_id") \
	PICK(CNEWER(f), f "_auth")
/* a customer merged with a batch's row (EXCLUDED): the fields beside the stamped ones */
#define CUS_DELETED "(t.deleted OR EXCLUDED.deleted)"
#define CUS_DELETED_AT "GREATEST(t.deleted_at, EXCLUDED.deleted_at)"
#define CUS_FIRST "LEAST(t.first_event_at, EXCLUDED.first_event_at)"
#define CUS_STATE_OCC "GREATEST(t.state_occurred_at, EXCLUDED.state_occurred_at)"
#define CUS_STATE_ID "(CASE WHEN t.state_event_id IS NULL OR"                           \
	" (COALESCE(EXCLUDED.state_occurred_at, '-infinity'), EXCLUDED.state_event_id) >"      \
	" (COALESCE(t.state_occurred_at, '-infinity'), t.state_event_id)"                      \
	" THEN EXCLUDED.state_event_id ELSE t.state_event_id END)"
#define STAMPED(p, f) p f ", " p f "_occurred_at, " p f "_event_id, " p f "_auth"
#define SET3(f) " " f " = EXCLUDED." f ", " f "_occurred_at = EXCLUDED." f "_occurred_at, " \
	f "_event_id = EXCLUDED." f "_event_id, " f "_auth = EXCLUDED." f "_auth,"

/*
 * A subscription's fields after price_id (which brings the plan with it), each with
 * the index of its stamp in fill_occurred_at / fill_event_id (price_id's is 1), the
 * cast of its text, and which events tell it (t): any that has it (VAL), or, for the
 * plan's period, one that has it and names the plan the subscription has, or no plan
 * when it has none (PLAN). A Hotmart SWITCH_PLAN names the new plan and not its period:
 * the old plan's period is not the new one's. The one list every field list below is
 * made from, so a new field is one line here (and its column, stamp and backfill in a
 * migration). SUB_FIELDS(X, a) calls X(a, field, index, cast, t) for each.
 */
#define SUB_FIELDS(X, a) X(a, "product_id", "2", "", VAL) X(a, "status", "3", "", VAL)              \
	X(a, "interval", "4", "", PLAN) X(a, "interval_count", "5", "::bigint", PLAN)                  \
	X(a, "quantity", "6", "::bigint", VAL) X(a, "current_period_start", "7", "::timestamptz", VAL) \
	X(a, "current_period_end", "8", "::timestamptz", VAL)                                          \
	X(a, "cancel_at_period_end", "9", "::boolean", VAL) X(a, "canceled_at", "10", "::timestamptz", VAL) \
	X(a, "trial_end", "11", "::timestamptz", VAL) X(a, "cancel_at", "12", "::timestamptz", VAL)
/* the X of SUB_FIELDS: macro M of the field (EACH_F), of its index (EACH_I), of both
 * (EACH_FI), of the field and its t (EACH_FT), or after a comma (NEXT_FT, NEXT_I, for
 * ARRAY[...]); the field's name, or its name and cast, as a select-list item (NAME_OF,
 * CAST_OF) */
#define EACH_F(M, f, i, c, t) M(f)
#define NEXT_FT(M, f, i, c, t) "," M(f, t)
#define NEXT_I(M, f, i, c, t) "," M(i)
#define EACH_I(M, f, i, c, t) M(i)
#define EACH_FI(M, f, i, c, t) M(f, i)
#define EACH_FT(M, f, i, c, t) M(f, t)
#define NAME_OF(u, f, i, c, t) " " f ","
#define CAST_OF(u, f, i, c, t) " " f c ","
/* In the recompute, does an event (a row of ev) tell field f of kind t? ps is the
 * subscription section of the subscription's chosen event: its price_id is the plan. */
#define TOLD(t, f) TOLD_##t(f)
#define TOLD_VAL(f) f " IS NOT NULL"
#define TOLD_PLAN(f) "(" f " IS NOT NULL AND price_id IS NOT DISTINCT FROM ps->>'price_id')"
/* A subscription field: from the best event that is a subscription event or
 * tells the field (see the subscriptions recompute; wf is its window). */
#define SUB_FIELD(f, t) " (array_agg(" f ") FILTER (WHERE auth OR " TOLD(t, f) ") OVER wf)[1] AS " f ","
/* wf: a subscription's events, the best first (subscription.* events, then by fill
 * stamp, occurrence, rank, id) */
#define SUB_WF "(PARTITION BY " SUB_KEY " ORDER BY auth DESC, fo DESC, occ DESC, " AUTH_RANK " DESC, id DESC" WHOLE ")"
#define SUB_COL(f) " n.event->'subscription'->>'" f "' AS " f ","
#define SUB_COLS " customer_id, plan_id, price_id," SUB_FIELDS(NAME_OF, _)                        \
	" state_occurred_at, state_event_id, state_event_type, customer_occurred_at,"                 \
	" customer_event_id, event_plan_code, fill_as_of, fill_occurred_at, fill_event_id"
/* the fields the latest subscription.* event gives (and state_event_type, last) */
#define SUB_AUTH_COLS(X) X("plan_id") X("price_id") SUB_FIELDS(EACH_F, X) X("event_plan_code") \
	X("state_occurred_at") X("state_event_id")
#define SUB_SET(c) " " c " = EXCLUDED." c ","
#define SUB_DIFF_T(c) " t." c ","
#define SUB_DIFF_X(c) " EXCLUDED." c ","
/*
 * Is an event (of provider prov, canonical type et) the authority on its
 * subscription? Stripe's subscription.* events carry the whole Subscription
 * object: the latest gives every field, nulls included. Hotmart's
 * (SWITCH_PLAN, UPDATE_SUBSCRIPTION_CHARGE_DATE, SUBSCRIPTION_CANCELLATION)
 * carry a part of it, as its purchases do, which tell the live status (a
 * renewal, DELAYED): every Hotmart event only fills, the latest value of each
 * field wins. sql/014 re-decides the Hotmart subscriptions stored before.
 */
#define SUB_AUTH(prov, et) "(coalesce(" et " LIKE 'subscription.%', false) AND " prov " <> 'hotmart')"
/*
 * subscription.* events in the same instant: created, then updated, then
 * canceled, then by event id (Stripe's times are whole seconds: a subscription
 * created incomplete and made active by its first payment often shares one).
 */
#define SUB_RANK(et) "(CASE " et " WHEN 'subscription.created' THEN 1 WHEN 'subscription.updated'" \
	" THEN 2 WHEN 'subscription.canceled' THEN 3 ELSE 0 END)"
/* the rank among an event's kind: subscription.* events' alone (for the others,
 * Hotmart's included, the merge has no rank to compare with: a stamp does not hold it) */
#define AUTH_RANK "(CASE WHEN auth THEN " SUB_RANK("event_type") " ELSE 0 END)"
#define AUTH_NEWER "(NOT " T_AUTH " OR"                                                    \
	" (EXCLUDED.state_occurred_at, " SUB_RANK("EXCLUDED.state_event_type") ", EXCLUDED.state_event_id) >" \
	" (t.state_occurred_at, " SUB_RANK("t.state_event_type") ", t.state_event_id))"

/*
 * A subscription no subscription.* event has set yet takes each field from the
 * latest event that had it, by the time of the state it tells (fo, FILL_AT),
 * then its own time, then its id, and keeps that event's stamp: element i of
 * fill_as_of (sql/019) / fill_occurred_at / fill_event_id (sql/004), NULL once
 * a subscription.* event gives the fields. FILL_ARRAY builds the array of an
 * expression per field.
 */
#define FILL_ARRAY(E) "ARRAY[" E("price_id", VAL) SUB_FIELDS(NEXT_FT, E) "]"
#define INDEX_ARRAY(E) "ARRAY[" E("1") SUB_FIELDS(NEXT_I, E) "]"
/* the row's columns, each with the index of the stamp of the field it follows */
#define SUB_FILL_COLS(X) X("plan_id", "1") X("price_id", "1") X("event_plan_code", "1")         \
	SUB_FIELDS(EACH_FI, X)
/* is the batch's row (EXCLUDED) / the stored row (t) from a subscription.* event? */
#define X_AUTH SUB_AUTH("EXCLUDED.provider", "EXCLUDED.state_event_type")
#define T_AUTH SUB_AUTH("t.provider", "t.state_event_type")
/* the batch's latest subscription.* event gives every field */
#define TAKE_ALL "(" X_AUTH " AND " AUTH_NEWER ")"
/* neither is: field i from the batch when its stamp is newer */
#define FILL_STAMP(r, i) "(" r ".fill_as_of[" i "], " r ".fill_occurred_at[" i "], " r ".fill_event_id[" i "])"
#define FILL(i) "(NOT " X_AUTH " AND NOT " T_AUTH " AND EXCLUDED.fill_event_id[" i "] IS NOT NULL AND"   \
	" (t.fill_event_id[" i "] IS NULL OR " FILL_STAMP("EXCLUDED", i) " > " FILL_STAMP("t", i) "))"
#define FILL_PICK(c, i) PICK(TAKE_ALL " OR " FILL(i), c)
#define FILL_ASOF(i) TAKE(FILL(i), "fill_as_of[" i "]")
#define FILL_OCC(i) TAKE(FILL(i), "fill_occurred_at[" i "]")
#define FILL_ID(i) TAKE(FILL(i), "fill_event_id[" i "]")
#define FILL_ANY(i) " OR " FILL(i)
#define EACH_INDEX(E) E("1") SUB_FIELDS(EACH_I, E)
/* neither is: the state stamp is the latest event's */
#define STATE_NEWER "(NOT " X_AUTH " AND NOT " T_AUTH " AND (EXCLUDED.state_occurred_at,"          \
	" EXCLUDED.state_event_id) > (t.state_occurred_at, t.state_event_id))"
#define STATE_PICK(c) PICK(TAKE_ALL " OR " STATE_NEWER, c)
/* the recompute's stamps: the first event in wf's order that had the field */
#define R_ASOF(f, t) "(array_agg(fo) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
#define R_OCC(f, t) "(array_agg(occ) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
#define R_ID(f, t) "(array_agg(id) FILTER (WHERE " TOLD(t, f) ") OVER wf)[1]"
/* the merge's: the position, in the batch's events latest first (window w),
 * of the first in fill order (wf) that has the field (p_f), of the latest
 * subscription.* event (pa) and of the latest with a customer (pc); the
 * values are read from arrays of the events in w's order (one array per
 * column, where an aggregate per field and column copied each value a dozen
 * times) */
#define B_POS(f) " (array_agg(rn) FILTER (WHERE s->>'" f "' IS NOT NULL) OVER wf)[1] AS p_" f ","
#define B_ASOF(f, t) "fa[p_" f "]"
#define B_OCC(f, t) "o[p_" f "]"
#define B_ID(f, t) "i[p_" f "]"
#define B_VAL(f) " ss[coalesce(pa, p_" f ")]->>'" f "' AS " f ","

/*
 * The time of the state an event's section tells (fo; stamped in fill_as_of):
 * for an invoice, when it was made (invoiced_at: its lines are the
 * subscription as it was then), else the event's own time. An invoice paid,
 * voided or marked uncollectible weeks later is still the state it was
 * made in: by event time it outranked the upgrade and the renewal after it.
 */
#define FILL_AT(auth, s, occ) "CASE WHEN " auth " THEN " occ " ELSE COALESCE((" s "->>'invoiced_at')::timestamptz, " occ ") END"

/* the events of a subscription, one row each, for the recompute */
#define SUB_EV_COLS " n.external_event_id AS id, n.event_type,"                     \
	" " SUB_AUTH("n.provider", "n.event_type") " AS auth,"                               \
	" COALESCE(n.occurred_at, '-infinity') AS occ, n.event->'subscription' AS s, n.customer_id," \
	" " FILL_AT(SUB_AUTH("n.provider", "n.event_type"), "n.event->'subscription'",             \
		    "COALESCE(n.occurred_at, '-infinity')") " AS fo,"                                   \
	" n.event->'subscription'->>'price_id' AS price_id,"                                 \
	SUB_FIELDS(EACH_F, SUB_COL) " 0 AS _end"

/* payments: the key, the columns beside it, and their values from a row of src */
#define PAY_KEY "project_id, provider, payment_id"
/* the fields the latest event about the payment gives, nulls included (PAY_ORDER) */
#define PAY_STATE(X) X("object") X("amount_minor") X("currency") X("status") X("method")         \
	X("installments") X("failure_code") X("discount_minor") X("refunded_minor") X("livemode")
/*
 * The fields that say what the payment belongs to and when it was due and paid:
 * the objects it links and its dates. A later event without one (a refund
 * webhook that names no subscription, a Stripe invoice event of an API version
 * that no longer carries the invoice's charge) does not erase it: each is the
 * latest non-null by (occurred_at, external_event_id), as customer_id, with its
 * stamp in fill_occurred_at[i] / fill_event_id[i] (sql/027). The method and
 * installments are the latest attempt's (PAY_STATE): a payment intent that
 * succeeds after a declined card may have been paid otherwise, and its
 * success, which Stripe cleared of the failed attempt, may not say how.
 * PAY_FILL(X, a) calls X(a, sep, field, i, cast) for each, sep "" for the
 * first and "," after.
 */
#define PAY_FILL(X, a) X(a, "", "invoice_id", "1", "") X(a, ",", "subscription_id", "2", "")          \
	X(a, ",", "charge_id", "3", "") X(a, ",", "payment_intent_id", "4", "")                          \
	X(a, ",", "due_at", "5", "::timestamptz") X(a, ",", "paid_at", "6", "::timestamptz")
#define FILL_F(M, s, f, i, c) M(f)
#define PAY_FIELDS(X) PAY_STATE(X) PAY_FILL(FILL_F, X)
#define PAY_COLS PAY_FIELDS(PAY_COL) " customer_id, customer_occurred_at, customer_event_id,"      \
	" state_occurred_at, state_event_id, state_event_type, fill_occurred_at, fill_event_id"
#define PAY_COL(c) " " c ","
#define FILL_VALUE(u, s, f, i, c) " fvs[p_" f "][" i "]" c ","
#define FILL_OCC_AT(u, s, f, i, c) s " fos[p_" f "]"
#define FILL_ID_OF(u, s, f, i, c) s " fis[p_" f "]"
#define PAY_VALUES " pay->>'object', (pay->>'amount_minor')::bigint, pay->>'currency', pay->>'status',"  \
	" pay->>'method', (pay->>'installments')::bigint, pay->>'failure_code',"                        \
	" (pay->>'discount_minor')::bigint, (pay->>'refunded_minor')::bigint, livemode,"                \
	PAY_FILL(FILL_VALUE, _) " cus_id, cus_occ, cus_eid, occ, external_event_id, event_type,"        \
	" ARRAY[" PAY_FILL(FILL_OCC_AT, _) "], ARRAY[" PAY_FILL(FILL_ID_OF, _) "]"
/* the latest event with a customer, by its stamp (time, event id), in src's window wc */
#define PAY_CUSTOMER " (array_agg(customer_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_id," \
	" (array_agg(occ) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_occ,"                  \
	" (array_agg(external_event_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS cus_eid,"
/* and with each field of PAY_FILL: its position p_f in wc's order (rc), read from
 * arrays of the payment's events in that order, of their fields' text (fv, one array
 * a row: fvs is two-dimensional), times and ids (an aggregate per field and column
 * made three dozen arrays a payment) */
#define FILL_TEXT(u, s, f, i, c) s " pay->>'" f "'"
#define FILL_POS(u, s, f, i, c) " min(rc) FILTER (WHERE fv[" i "] IS NOT NULL) OVER wc AS p_" f ","
/* does the batch's stamp for field i beat the stored one? */
#define PAY_FNEWER(i) STAMP_NEWER("fill_occurred_at[" i "]", "fill_event_id[" i "]")
#define FILL_MERGE(u, s, f, i, c) PICK(PAY_FNEWER(i), f)
#define FILL_MERGE_OCC(u, s, f, i, c) s " " TAKE(PAY_FNEWER(i), "fill_occurred_at[" i "]")
#define FILL_MERGE_ID(u, s, f, i, c) s " " TAKE(PAY_FNEWER(i), "fill_event_id[" i "]")
#define FILL_ANY_NEWER(u, s, f, i, c) " OR " PAY_FNEWER(i)
#define PAY_SET(c) " " c " = EXCLUDED." c ","
#define PAY_T(c) " t." c ","
#define PAY_X(c) " EXCLUDED." c ","
/*
 * A payment's events in order: by time, then, at the same instant, by the stage
 * of the payment's life its status is (Stripe's times are whole seconds, and an
 * invoice is often finalized (pending) and paid in the same one: the event ids,
 * random, would make it pending half the time), then by the amount refunded so
 * far (two partial refunds of a charge in one second: Stripe's running total
 * only grows), then by event id. A refund ranks after an inquiry (sql/018): a
 * Hotmart v1 purchase's statuses share one time, and its refund request
 * (inquiry) granted is a refund; a Stripe dispute, the only other inquiry, is a
 * row of its own, never refunded.
 */
#define PAY_STAGE(st) "(CASE " st " WHEN 'pending' THEN 1 WHEN 'failed' THEN 2"                    \
	" WHEN 'inquiry' THEN 4 WHEN 'partially_refunded' THEN 5 WHEN 'refunded' THEN 6"           \
	" WHEN 'disputed' THEN 7 WHEN 'dispute_won' THEN 8 WHEN 'dispute_lost' THEN 8 ELSE 3 END)"
#define PAY_ORDER(p) "(" p "state_occurred_at, " PAY_STAGE(p "status") ", COALESCE(" p "refunded_minor, -1), " \
	p "state_event_id)"
/* the batch's event is the latest about the payment (or the same one, changed) */
#define PAY_LATEST PAY_ORDER("EXCLUDED.") " >= " PAY_ORDER("t.")
#define PAY_PICK(c) PICK(PAY_LATEST, c)
/* the payments' rows from the events in ev, the latest about each payment first
 * (then_by: the order among copies), and the INSERT up to its SET list */
#define PAY_UPSERT(then_by) " src AS (SELECT * FROM (SELECT project_id, provider, payment_id,"      \
	" external_event_id, event_type, occ, pay, livemode," PAY_CUSTOMER PAY_FILL(FILL_POS, _)            \
	" array_agg(fv) OVER wc AS fvs, array_agg(occ) OVER wc AS fos,"                                 \
	" array_agg(external_event_id) OVER wc AS fis, row_number() OVER w AS rn"                       \
	" FROM (SELECT *, row_number() OVER wc AS rc FROM (SELECT *, ARRAY[" PAY_FILL(FILL_TEXT, _)      \
	"] AS fv FROM ev) ev WINDOW wc AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC,"                 \
	" external_event_id DESC" then_by ")) ev"                                                       \
	" WINDOW w AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC, "                                   \
	PAY_STAGE("pay->>'status'") " DESC, COALESCE((pay->>'refunded_minor')::bigint, -1) DESC,"       \
	" external_event_id DESC" then_by WHOLE "),"                                                    \
	" wc AS (PARTITION BY " PAY_KEY " ORDER BY occ DESC, external_event_id DESC" then_by WHOLE "))"  \
	" x WHERE rn = 1)"                                                                              \
	" INSERT INTO payments AS t (" PAY_KEY "," PAY_COLS ") SELECT " PAY_KEY "," PAY_VALUES " FROM src" \
	" ON CONFLICT (" PAY_KEY ") DO UPDATE SET"

#define CUS_COLS " email, email_occurred_at, email_event_id, email_auth, name, name_occurred_at," \
	" name_event_id, name_auth, phone, phone_occurred_at, phone_event_id, phone_auth, country," \
	" country_occurred_at, country_event_id, country_auth," \
	" deleted, deleted_at, first_event_at, state_occurred_at, state_event_id"
/*
 * Is an event (of provider prov, canonical type et) the authority on its
 * customer's contact fields? Stripe's customer.* events carry the Customer
 * object, which owns them; its other events carry copies: a charge's
 * billing_details are its payment method's (a card holder's e-mail), an
 * invoice's customer_email is frozen when it is finalized. So a field a
 * customer event gave is only changed by a later customer event; the others
 * fill what no customer event gave. Hotmart sends no customer events.
 */
#define CUS_AUTH(prov, et) "(coalesce(" et " LIKE 'customer.%', false) AND " prov " = 'stripe')"
/*
 * The time of the copy an event carries of its customer's contact fields (its
 * fields' stamp, *_occurred_at): an invoice's are frozen when it is made, so
 * for a Stripe invoice event that is not the authority it is when the invoice
 * was made, its invoiced_at (docs/events.md: in the subscription section), and
 * for an invoice of no subscription, which has no such section, the same time
 * from its raw payload (stripe_invoiced_at, sql/019; one key probe, only for
 * those); else the event's own time (occ). An old invoice paid late (net 30)
 * still carries the e-mail the customer had when it was made: by event time
 * it was the newest copy and wrote the old address back over a later
 * invoice's. An event loaded without its raw envelope and with no
 * invoiced_at ranks by its own time.
 */
#define CUS_AS_OF(auth, prov, pet, id, ev, occ)                                               \
	"(CASE WHEN " auth " THEN " occ " ELSE COALESCE((" ev " #>> '{subscription,invoiced_at}')::timestamptz," \
	" CASE WHEN " prov " = 'stripe' AND " pet " LIKE 'invoice.%' AND jsonb_typeof(" ev "->'customer') = 'object'" \
	" THEN (SELECT (stripe_invoiced_at(r.payload) #>> '{}')::timestamptz FROM external_events_raw r"  \
	" WHERE (r.provider, r.external_event_id) = (" prov ", " id ") LIMIT 1) END, " occ ") END)"
/*
 * The latest value per key, field by field, is computed without joining
 * per-field winners: joins of those left the planner guessing their sizes,
 * and a bad guess turned into a nested loop quadratic in the batch.
 */
#define CUS_KEY "project_id, provider, customer_id"
/* the keys recomputed rather than merged, for a NOT IN: a hashed subplan
 * whatever the planner guesses of the (never analyzed) staging tables, where
 * NOT EXISTS became a nested loop quadratic in the batch. No column is NULL. */
#define FULL_KEYS(kind) "SELECT project_id, provider, id FROM stage_full WHERE kind = '" kind "'"
/* Keeping the earliest copy of an event the batch holds twice: a sort the
 * batch skips when the loader saw no key twice in it (script() strips the
 * marked text from that variant of the script). */
#define DEDUP(sql) " /*dedup*/" sql "/**/"
#define SUB_KEY "project_id, provider, subscription_id"
/* the customers' rows from the events in ev: a CTE, then the SELECT (CUS_COLS
 * order). One sort: each customer's events latest first, a window over them
 * all; a field is the first non-null value in that order (the authority's
 * first, then by the time of the copy, fo: CUS_AS_OF, then by id), with its
 * stamp (window aggregates read the frame in the window's order). */
#define CUS_LATEST(f) " (array_agg(" f ") FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "," \
	" (array_agg(fo) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "_occ,"           \
	" (array_agg(id) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1] AS " f "_id,"            \
	" coalesce((array_agg(auth) FILTER (WHERE " f " IS NOT NULL) OVER wf)[1], false) AS " f "_auth,"
/* (wf's level first, then w's: in one level the first window's arrays rode
 * in every row through the other's sort, quadratic in a customer's events) */
#define CUS_CTES ", lw AS (SELECT *,"                                                    \
	" coalesce(bool_or(event_type = 'customer.deleted') OVER w, false) AS deleted,"        \
	" max(occurred_at) FILTER (WHERE event_type = 'customer.deleted') OVER w AS deleted_at," \
	" min(occurred_at) OVER w AS first_event_at, max(occurred_at) OVER w AS state_occurred_at," \
	" id AS state_event_id, row_number() OVER w AS rn FROM (SELECT " CUS_KEY ", id,"       \
	" event_type, occurred_at, occ," CUS_LATEST("email") CUS_LATEST("name")                 \
	CUS_LATEST("phone") CUS_LATEST("country") " 0 AS _end FROM ev WINDOW wf AS (PARTITION BY " \
	CUS_KEY " ORDER BY auth DESC, fo DESC, id DESC" WHOLE ")) ev WINDOW w AS (PARTITION BY " \
	CUS_KEY " ORDER BY occ DESC, id DESC" WHOLE "))"
#define CUS_SELECT " SELECT " CUS_KEY ", email, email_occ, email_id, email_auth, name, name_occ,"  \
	" name_id, name_auth, phone, phone_occ, phone_id, phone_auth, country, country_occ,"     \
	" country_id, country_auth, deleted, deleted_at,"                                        \
	" first_event_at, state_occurred_at, state_event_id FROM lw WHERE rn = 1"

/*
 * The members of a payload that say how it was delivered, not what happened:
 * Stripe's pending_webhooks, the endpoints still to receive the event, which
 * each retry and each replay lowers. Two copies that differ only there are
 * the same event.
 */
#define DELIVERY_KEYS "'{pending_webhooks}'::text[]"
/* the raw rows the batch moved to an earlier copy, of the same content or not,
 * whose event the batch does not hold (c) */
#define MOVED_ALONE(same)                                                                          \
	"(SELECT provider, external_event_id FROM stage_changed WHERE kind = 'r' AND moved AND same = " same \
	" AND (provider, external_event_id) NOT IN (SELECT provider, external_event_id FROM stage_ev)) c"
/* the rows of table naming those events, for a ctid = ANY: one key probe each */
#define MOVED_ROWS(table, same)                                                                    \
	"ARRAY(SELECT o.ctid FROM " MOVED_ALONE(same) " CROSS JOIN LATERAL (SELECT ctid FROM " table " o" \
	" WHERE (o.provider, o.external_event_id) = (c.provider, c.external_event_id) LIMIT 1) o)"
/* of those, with other content, the rows that are not the raw row's copy's own
 * (an event loaded alone before, of the copy whose raw envelope now came: it
 * is the one a load of them together keeps, audit-B 2) */
#define MOVED_OTHER_ROWS(table)                                                                    \
	"ARRAY(SELECT o.ctid FROM " MOVED_ALONE("false") " CROSS JOIN LATERAL (SELECT ctid, received_at,"  \
	" source FROM " table " o WHERE (o.provider, o.external_event_id) = (c.provider, c.external_event_id)" \
	" LIMIT 1) o WHERE NOT EXISTS (SELECT 1 FROM external_events_raw r WHERE (r.provider,"           \
	" r.external_event_id, r.received_at, r.source) = (c.provider, c.external_event_id, o.received_at, o.source)))"
/* the rows of table naming them take the raw row's received_at and source */
#define MOVED_RESTAMP(table)                                                                       \
	"UPDATE " table " n SET (received_at, source) = (SELECT r.received_at, r.source"               \
	" FROM external_events_raw r WHERE (r.provider, r.external_event_id) = (n.provider, n.external_event_id))" \
	" WHERE n.ctid = ANY (" MOVED_ROWS(table, "true") ")"

const char *const upserts[] = {
	/* A move (revenueos.move_project on: docs/schema.md): a copy received after
	 * the stored one, under another project, of the same content (the dumps
	 * first loaded, their files' times changed since, or --received-at left
	 * out) is that copy read again: it takes its received_at and source, its
	 * event too, and moves the event as the stored copy does. It was not kept,
	 * and the move left it behind without a word (audit-RB 1). Without a move
	 * the condition is a constant: nothing is read. (tests/db/load_faults.sh
	 * knows a batch's script by its first words.) */
	"WITH m AS MATERIALIZED (SELECT s.seq, s.provider, s.external_event_id, s.received_at AS was_at,"
	" s.source AS was_source, t.received_at, t.source FROM stage_raw s CROSS JOIN LATERAL"
	" (SELECT t.project_id, t.event_type, t.occurred_at, t.received_at, t.source, t.payload"
	" FROM external_events_raw t WHERE (t.provider, t.external_event_id) = (s.provider, s.external_event_id)"
	" LIMIT 1) t WHERE current_setting('revenueos.move_project', true) = 'on' AND s.project_id <> t.project_id"
	" AND (s.received_at," SRC_KEY("s.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	" AND (s.event_type, s.occurred_at, s.payload - " DELIVERY_KEYS ") IS NOT DISTINCT FROM"
	" (t.event_type, t.occurred_at, t.payload - " DELIVERY_KEYS ")),"
	" e AS (UPDATE stage_ev e SET (received_at, source) = (m.received_at, m.source) FROM m"
	" WHERE (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (m.provider, m.external_event_id, m.was_at, m.was_source))"
	" UPDATE stage_raw s SET (received_at, source) = (m.received_at, m.source) FROM m WHERE s.seq = m.seq",

	/* projects: the earliest received_at is a minimum, whatever the order */
	"INSERT INTO projects AS t (id, first_event_at)"
	" SELECT project_id, min(received_at) FROM (SELECT project_id, received_at FROM stage_raw"
	" UNION ALL SELECT project_id, received_at FROM stage_ev) s GROUP BY project_id"
	" ON CONFLICT (id) DO UPDATE SET first_event_at = EXCLUDED.first_event_at"
	" WHERE t.first_event_at IS NULL OR EXCLUDED.first_event_at < t.first_event_at",

	"WITH up AS (INSERT INTO external_events_raw AS t (provider, external_event_id, project_id,"
	" event_type, occurred_at, received_at, source, payload)"
	" SELECT" DEDUP(" DISTINCT ON (provider, external_event_id)") " provider, external_event_id, project_id,"
	" event_type, occurred_at, received_at, source, payload FROM stage_raw"
	DEDUP(" ORDER BY provider, external_event_id, received_at," SRC_KEY("source") ", seq DESC")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" event_type = EXCLUDED.event_type, occurred_at = EXCLUDED.occurred_at, payload = EXCLUDED.payload,"
	KEEP_FIRST_COPY
	" WHERE " EARLIER_COPY
	" OR ((EXCLUDED.received_at, EXCLUDED.source COLLATE \"C\") = (t.received_at, t.source)"
	" AND (t.project_id, t.event_type, t.occurred_at, t.payload) IS DISTINCT FROM"
	" (EXCLUDED.project_id, EXCLUDED.event_type, EXCLUDED.occurred_at, EXCLUDED.payload))"
	" RETURNING provider, external_event_id, xmax = 0 AS ins, project_id, received_at, source,"
	" CASE WHEN xmax <> 0 THEN row(event_type, occurred_at) END AS meta,"
	" CASE WHEN xmax <> 0 THEN payload - " DELIVERY_KEYS " END AS body),"
	/* what an updated row held before: the statement's snapshot still sees
	 * its old version (one key probe per updated row; a fresh load, none) */
	" c AS MATERIALIZED (SELECT u.provider, u.external_event_id, u.ins, u.project_id, u.received_at,"
	" u.source, o.moved, o.body AND (o.project_id, o.meta) IS NOT DISTINCT FROM (u.project_id, u.meta)"
	" AS same, o.body, o.source AS old FROM up u LEFT JOIN LATERAL (SELECT (o.received_at, o.source)"
	" IS DISTINCT FROM (u.received_at, u.source) AS moved, o.project_id, row(o.event_type, o.occurred_at)"
	" AS meta, o.payload - " DELIVERY_KEYS " IS NOT DISTINCT FROM u.body AS body, o.source"
	" FROM external_events_raw o WHERE NOT u.ins AND (o.provider, o.external_event_id) ="
	" (u.provider, u.external_event_id) LIMIT 1) o ON true),"
	/* an earlier copy replaced a stored one of another payload: said
	 * (not_kept_say). Only the payload is content there: a Hotmart v1
	 * cancellation is dated at its arrival, and a retry of it, the same bytes,
	 * is no news. Of copies tied on (received_at, source), the last read is
	 * the one stored. */
	" k AS (INSERT INTO stage_kept SELECT DISTINCT ON (c.provider, c.external_event_id) s.seq, c.old, true"
	" FROM c JOIN stage_raw s ON (s.provider, s.external_event_id, s.received_at, s.source) ="
	" (c.provider, c.external_event_id, c.received_at, c.source) WHERE c.moved AND NOT c.body"
	" ORDER BY c.provider, c.external_event_id, s.seq DESC)"
	" INSERT INTO stage_changed SELECT 'r', provider, external_event_id, ins, project_id, received_at,"
	" moved, same FROM c",

	/* An event is in one project, its raw row's: sql/017 keeps each table's row
	 * where it was first loaded, and this keeps the tables together. The
	 * batch's copies of an event (its raw rows and events: one aggregate, as
	 * the scratch tables' statistics, taken empty, made a join of them a
	 * nested loop), the batch's events against their raw rows stored before
	 * (one key probe each, for those whose raw row the batch did not write),
	 * and a raw row inserted without its event against the event stored
	 * before (with its event, the log's trigger refuses that). Refused as
	 * sql/017 refuses a move (PROJECT_CONFLICT): the replay says which. */
	"SELECT event_project_check(provider, external_event_id, stored, project_id) FROM ("
	" SELECT provider, external_event_id, max(project_id) AS project_id, min(project_id) AS stored"
	" FROM (SELECT provider, external_event_id, project_id FROM stage_raw UNION ALL"
	" SELECT provider, external_event_id, project_id FROM stage_ev) b GROUP BY 1, 2 UNION ALL"
	" SELECT e.provider, e.external_event_id, e.project_id, t.project_id FROM stage_ev e"
	" CROSS JOIN LATERAL (SELECT t.project_id FROM external_events_raw t WHERE"
	" (t.provider, t.external_event_id) = (e.provider, e.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("e") " UNION ALL"
	" SELECT c.provider, c.external_event_id, c.project_id, t.project_id FROM stage_changed c"
	" CROSS JOIN LATERAL (SELECT t.project_id FROM external_events t WHERE"
	" (t.provider, t.external_event_id) = (c.provider, c.external_event_id) LIMIT 1) t"
	" WHERE c.kind = 'r' AND c.ins AND (c.provider, c.external_event_id) NOT IN"
	" (SELECT provider, external_event_id FROM stage_ev)) x WHERE stored <> project_id",

	/* A copy received after the stored one, with other content (a resent,
	 * corrected event), is not the copy kept: its event goes from the batch,
	 * so that neither the canonical event, nor the log, nor the state tables
	 * take what the raw row does not hold. What only says how it was delivered
	 * (DELIVERY_KEYS) is no content: a retry, or a replay from the provider's
	 * dashboard after a fix, brings its event as a same-payload copy does. Only
	 * raw rows the upsert above left alone are looked up, one key probe each
	 * (a fresh load probes nothing). Without its raw copy in the batch (events
	 * loaded alone) an event is taken as it comes. */
	"WITH l AS MATERIALIZED (SELECT s.seq, s.provider, s.external_event_id, s.received_at, s.source,"
	" t.source AS kept, s.payload - " DELIVERY_KEYS " IS DISTINCT FROM t.payload - " DELIVERY_KEYS " AS other"
	" FROM stage_raw s CROSS JOIN LATERAL (SELECT t.project_id, t.event_type, t.occurred_at,"
	" t.received_at, t.source, t.payload FROM external_events_raw t"
	" WHERE (t.provider, t.external_event_id) = (s.provider, s.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("s")
	" AND (s.received_at," SRC_KEY("s.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	/* a later copy under another project is refused as an update would be (sql/017) */
	" AND CASE WHEN s.project_id <> t.project_id THEN event_project_check(s.provider,"
	" s.external_event_id, t.project_id, s.project_id) ELSE true END"
	" AND (s.project_id, s.event_type, s.occurred_at, s.payload - " DELIVERY_KEYS ") IS DISTINCT FROM"
	" (t.project_id, t.event_type, t.occurred_at, t.payload - " DELIVERY_KEYS ")),"
	/* said by the loader once the batch is committed (not_kept_say), when
	 * the payload is other (a retry dated at its arrival is no news) */
	" k AS (INSERT INTO stage_kept SELECT seq, kept, false FROM l WHERE other)"
	/* computed once: as a subquery the planner, trusting the scratch tables'
	 * stale statistics, scanned the raw rows again for every staged event
	 * (quadratic in the batch: a load 4.6 times slower) */
	" DELETE FROM stage_ev e USING l"
	" WHERE (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (l.provider, l.external_event_id, l.received_at, l.source)",

	/* an event whose raw copy in the batch is not the copy kept, another raw
	 * copy in the batch being earlier (its own event refused, or none): with
	 * other content it goes, with the same it takes the kept copy's
	 * received_at and source, as when the copies come in two runs (the
	 * statement above; MOVED_ALONE). Every copy's event, before the one kept
	 * is chosen below: of three copies, the third may be the first's content
	 * when the second's is other. Keys the batch holds twice only. */
	DEDUP("WITH d AS MATERIALIZED (SELECT s.seq, e.ctid AS t, r.received_at, r.source,"
	" (s.project_id, s.event_type, s.occurred_at) IS NOT DISTINCT FROM"
	" (r.project_id, r.event_type, r.occurred_at) AS meta,"
	" s.payload - " DELIVERY_KEYS " IS NOT DISTINCT FROM r.payload - " DELIVERY_KEYS " AS body"
	" FROM (SELECT provider, external_event_id FROM stage_raw GROUP BY 1, 2 HAVING count(*) > 1) x"
	" JOIN stage_raw s ON (s.provider, s.external_event_id) = (x.provider, x.external_event_id)"
	/* (a raw copy without its event is said not kept too) */
	" LEFT JOIN stage_ev e ON (e.provider, e.external_event_id, e.received_at, e.source) ="
	" (s.provider, s.external_event_id, s.received_at, s.source)"
	" CROSS JOIN LATERAL (SELECT r.project_id, r.event_type, r.occurred_at, r.received_at, r.source,"
	" r.payload FROM external_events_raw r WHERE (r.provider, r.external_event_id) ="
	" (x.provider, x.external_event_id) LIMIT 1) r"
	" WHERE (s.received_at," SRC_KEY("s.source") ") > (r.received_at," SRC_KEY("r.source") ")),"
	" k AS (INSERT INTO stage_kept SELECT seq, source, false FROM d WHERE NOT body),"
	" gone AS (DELETE FROM stage_ev WHERE ctid IN (SELECT t FROM d WHERE NOT (meta AND body)))"
	" UPDATE stage_ev e SET received_at = d.received_at, source = d.source FROM d"
	" WHERE e.ctid = d.t AND d.meta AND d.body"),

	/* of an event the batch holds more than once, the copy kept (the least
	 * received_at, source) is the one every statement below reads: the
	 * payments' merge reads stage_ev as it is */
	DEDUP("DELETE FROM stage_ev WHERE ctid = ANY (ARRAY(SELECT ctid FROM (SELECT ctid, row_number()"
	" OVER (PARTITION BY provider, external_event_id ORDER BY received_at," SRC_KEY("source") ", seq DESC) AS n"
	" FROM stage_ev) x WHERE n > 1))"),

	/* an event that comes without its raw copy (canonical events loaded
	 * alone), of a later copy than the one stored (its log row's): not kept,
	 * as in one batch, where the first copy's is (just above). Taken, it
	 * replaced the stored event's content and outcome under the first copy's
	 * time and source, and the tables depended on where batches and runs were
	 * cut (audit-B 1, 2). A retry or a replay of the stored raw copy (with
	 * its raw copy, a later one of the same content: the statements above
	 * judged it) brings its event; a re-run's copy is the stored one (a
	 * normalizer's fix); an earlier one replaces it. One key probe of the log
	 * per event whose raw row the batch did not write (a fresh load probes
	 * nothing). Left: an event loaded alone, then a later copy loaded whole,
	 * its raw copy the first stored: its event replaces the first's. */
	"DELETE FROM stage_ev WHERE ctid = ANY (ARRAY(SELECT e.ctid FROM stage_ev e"
	" CROSS JOIN LATERAL (SELECT t.received_at, t.source FROM external_events t"
	" WHERE (t.provider, t.external_event_id) = (e.provider, e.external_event_id) LIMIT 1) t"
	" WHERE" RAW_NOT_WRITTEN("e")
	" AND (e.received_at," SRC_KEY("e.source") ") > (t.received_at," SRC_KEY("t.source") ")"
	" AND NOT ((e.provider, e.external_event_id, e.received_at, e.source) IN"
	" (SELECT provider, external_event_id, received_at, source FROM stage_raw)"
	" AND EXISTS (SELECT 1 FROM external_events_raw r WHERE (r.provider, r.external_event_id) ="
	" (e.provider, e.external_event_id) AND (r.received_at," SRC_KEY("r.source") ") <"
	" (e.received_at," SRC_KEY("e.source") ")))))",

	/* a Stripe invoice's canonical event written before invoiced_at was (an older
	 * normalize, canonical NDJSON kept) gets it from its raw payload, the batch's
	 * copy else the stored one, as sql/019 gave the events stored then: ordered by
	 * its event's time, it would outrank the invoices made after it */
	"UPDATE stage_ev e SET event = jsonb_set(e.event, '{subscription,invoiced_at}',"
	" stripe_invoiced_at(COALESCE((SELECT s.payload FROM stage_raw s"
	" WHERE (s.provider, s.external_event_id) = (e.provider, e.external_event_id) LIMIT 1),"
	" (SELECT t.payload FROM external_events_raw t"
	" WHERE (t.provider, t.external_event_id) = (e.provider, e.external_event_id)))))"
	" WHERE e.provider = 'stripe' AND e.provider_event_type LIKE 'invoice.%'"
	" AND jsonb_typeof(e.event->'subscription') = 'object' AND NOT (e.event->'subscription') ? 'invoiced_at'",

	"WITH src AS (SELECT" DEDUP(" DISTINCT ON (provider, external_event_id)") " provider, external_event_id,"
	" project_id, event_type, provider_event_type, status, occurred_at, received_at, source,"
	" customer_id, subscription_id, payment_id, event FROM stage_ev WHERE status <> 'failed'"
	DEDUP(" ORDER BY provider, external_event_id, received_at," SRC_KEY("source") ", seq DESC") "),"
	" up AS (INSERT INTO external_events_normalized AS t (provider, external_event_id,"
	" project_id, event_type, provider_event_type, status, occurred_at, received_at, source,"
	" customer_id, subscription_id, payment_id, event)"
	" SELECT s.provider, s.external_event_id, s.project_id, s.event_type, s.provider_event_type,"
	" s.status, s.occurred_at," FIRST_COPY("s") ", s.customer_id, s.subscription_id, s.payment_id,"
	" s.event FROM src s" FIRST_COPY_JOIN("s")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" event_type = EXCLUDED.event_type, provider_event_type = EXCLUDED.provider_event_type,"
	" status = EXCLUDED.status, occurred_at = EXCLUDED.occurred_at,"
	" customer_id = EXCLUDED.customer_id, subscription_id = EXCLUDED.subscription_id,"
	" payment_id = EXCLUDED.payment_id, event = EXCLUDED.event,"
	KEEP_FIRST_COPY
	" WHERE " EARLIER_COPY
	" OR (t.project_id, t.status, t.event) IS DISTINCT FROM"
	" (EXCLUDED.project_id, EXCLUDED.status, EXCLUDED.event)"
	" RETURNING 'n'::\"char\" AS kind, xmax = 0 AS ins, provider, external_event_id, project_id,"
	" status, event_type, occurred_at, customer_id, subscription_id, payment_id,"
	" event #>> '{customer,email}', event #>> '{customer,name}', event #>> '{customer,phone}',"
	" event #>> '{customer,country}', event->'subscription',"
	" " CUS_AS_OF(CUS_AUTH("t.provider", "t.event_type"), "t.provider", "t.provider_event_type",
		      "t.external_event_id", "t.event", "COALESCE(t.occurred_at, '-infinity')") ")"
	/* and what the changed rows named before: the statement's snapshot still
	 * sees their old versions (only updated rows are looked up, one key probe
	 * each: as a join the planner chose a hash join over the whole table) */
	" INSERT INTO stage_norm SELECT * FROM up UNION ALL"
	" SELECT 'o', false, o.provider, o.external_event_id, o.project_id, NULL, NULL, NULL,"
	" o.customer_id, o.subscription_id, o.payment_id, NULL, NULL, NULL, NULL, NULL, NULL"
	" FROM up u CROSS JOIN LATERAL (SELECT * FROM external_events_normalized o"
	" WHERE o.provider = u.provider AND o.external_event_id = u.external_event_id"
	" AND o.status = 'processed' LIMIT 1) o WHERE NOT u.ins",

	/* an event every copy of which in the batch failed (a re-run after a
	 * normalizer change) has no canonical event, as in a clean load: a stored
	 * one goes, and what it named is recomputed ('o' rows). One key probe per
	 * failed event, never a join over the table. */
	"WITH f AS (SELECT provider, external_event_id FROM stage_ev GROUP BY 1, 2"
	" HAVING bool_and(status = 'failed')),"
	" gone AS (DELETE FROM external_events_normalized n WHERE n.ctid = ANY (ARRAY(SELECT o.ctid"
	" FROM f CROSS JOIN LATERAL (SELECT ctid FROM external_events_normalized o"
	" WHERE (o.provider, o.external_event_id) = (f.provider, f.external_event_id) LIMIT 1) o))"
	" RETURNING n.provider, n.external_event_id, n.project_id, n.status, n.customer_id,"
	" n.subscription_id, n.payment_id)"
	" INSERT INTO stage_norm SELECT 'o', false, provider, external_event_id, project_id, NULL, NULL,"
	" NULL, customer_id, subscription_id, payment_id, NULL, NULL, NULL, NULL, NULL, NULL FROM gone"
	" WHERE status = 'processed'",

	/* A raw row now holding an earlier copy than the one stored, when the batch
	 * holds no event of it (a raw envelope loaded alone, or its event refused):
	 * the stored canonical event and log row are the later copy's. With the
	 * same content they take the earlier copy's received_at and source; with
	 * other content they go, as that copy is not kept, and what the canonical
	 * event named is recomputed ('o' rows): the tables a load in the other
	 * order makes. One key probe per such row, never a join over a table. */
	MOVED_RESTAMP("external_events_normalized"),
	MOVED_RESTAMP("external_events"),
	"WITH gone AS (DELETE FROM external_events_normalized n WHERE n.ctid = ANY ("
	MOVED_OTHER_ROWS("external_events_normalized") ")"
	" RETURNING n.provider, n.external_event_id, n.project_id, n.status, n.customer_id,"
	" n.subscription_id, n.payment_id)"
	" INSERT INTO stage_norm SELECT 'o', false, provider, external_event_id, project_id, NULL, NULL,"
	" NULL, customer_id, subscription_id, payment_id, NULL, NULL, NULL, NULL, NULL, NULL FROM gone"
	" WHERE status = 'processed'",
	"DELETE FROM external_events n WHERE n.ctid = ANY (" MOVED_OTHER_ROWS("external_events") ")",

	/* a plan code we have not seen yet becomes a plan (named by ops later) */
	"INSERT INTO plans (id, code) SELECT DISTINCT plan_code, plan_code FROM stage_ev"
	" WHERE status = 'processed' AND plan_code IS NOT NULL ON CONFLICT DO NOTHING",

	/* the processing log; attempts and last_processed_at move only when the outcome does */
	"WITH src AS (SELECT" DEDUP(" DISTINCT ON (s.provider, s.external_event_id)") " s.provider,"
	" s.external_event_id, s.project_id, s.status, s.reason, s.event_type, s.provider_event_type,"
	" s.occurred_at, s.received_at, s.source,"
	" CASE WHEN s.status = 'processed' AND s.price_id IS NOT NULL AND s.plan_code IS NULL"
	" AND pp.plan_id IS NULL THEN s.price_id END AS unmapped"
	" FROM stage_ev s LEFT JOIN plan_prices pp ON pp.provider = s.provider AND pp.price_id = s.price_id"
	DEDUP(" ORDER BY s.provider, s.external_event_id, s.received_at," SRC_KEY("s.source") ", s.seq DESC") "),"
	" up AS (INSERT INTO external_events AS t (provider, external_event_id, project_id, status,"
	" reason, warning, unmapped_price_id, event_type, provider_event_type, occurred_at,"
	" received_at, source)"
	" SELECT s.provider, s.external_event_id, s.project_id, s.status, s.reason,"
	" CASE WHEN s.unmapped IS NOT NULL THEN 'no plan mapped for ' || s.provider || ' price '''"
	" || s.unmapped || '''' END, s.unmapped, s.event_type, s.provider_event_type, s.occurred_at,"
	FIRST_COPY("s") " FROM src s" FIRST_COPY_JOIN("s")
	" ON CONFLICT (provider, external_event_id) DO UPDATE SET project_id = EXCLUDED.project_id,"
	" status = EXCLUDED.status, reason = EXCLUDED.reason, warning = EXCLUDED.warning,"
	" unmapped_price_id = EXCLUDED.unmapped_price_id, event_type = EXCLUDED.event_type,"
	" provider_event_type = EXCLUDED.provider_event_type, occurred_at = EXCLUDED.occurred_at,"
	KEEP_FIRST_COPY ","
	" attempts = t.attempts + CASE WHEN (t.project_id, t.status, t.reason, t.warning,"
	" t.event_type, t.provider_event_type, t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id,"
	" EXCLUDED.status, EXCLUDED.reason, EXCLUDED.warning, EXCLUDED.event_type,"
	" EXCLUDED.provider_event_type, EXCLUDED.occurred_at) THEN 1 ELSE 0 END,"
	" last_processed_at = CASE WHEN (t.project_id, t.status, t.reason, t.warning, t.event_type,"
	" t.provider_event_type, t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id,"
	" EXCLUDED.status, EXCLUDED.reason, EXCLUDED.warning, EXCLUDED.event_type,"
	" EXCLUDED.provider_event_type, EXCLUDED.occurred_at) THEN now() ELSE t.last_processed_at END"
	" WHERE " EARLIER_COPY
	" OR (t.project_id, t.status, t.reason, t.warning, t.event_type, t.provider_event_type,"
	" t.occurred_at) IS DISTINCT FROM (EXCLUDED.project_id, EXCLUDED.status, EXCLUDED.reason,"
	" EXCLUDED.warning, EXCLUDED.event_type, EXCLUDED.provider_event_type, EXCLUDED.occurred_at)"
	" RETURNING provider, external_event_id, xmax = 0 AS ins, project_id, received_at)"
	" INSERT INTO stage_changed SELECT 'e', * FROM up",

	/* integrations: the latest received_at of the events kept (a later duplicate
	 * of a stored event is not news). When the batch only added events that is
	 * a maximum with the stored value; when a stored event changed (an earlier
	 * copy moves its received_at back) or the row is missing, it is recomputed. */
	"UPDATE integrations t SET last_event_at = c.last FROM (SELECT project_id, provider,"
	" max(received_at) AS last FROM stage_changed GROUP BY 1, 2 HAVING bool_and(ins)) c"
	" WHERE (t.project_id, t.provider) = (c.project_id, c.provider)"
	" AND (t.last_event_at IS NULL OR c.last > t.last_event_at)",

	"WITH touched AS (SELECT project_id, provider FROM stage_changed c GROUP BY 1, 2"
	" HAVING NOT bool_and(ins) OR NOT EXISTS (SELECT 1 FROM integrations i"
	" WHERE i.project_id = c.project_id AND i.provider = c.provider))"
	" INSERT INTO integrations AS t (project_id, provider, last_event_at)"
	" SELECT project_id, provider, GREATEST((SELECT max(r.received_at) FROM external_events_raw r"
	" WHERE r.project_id = x.project_id AND r.provider = x.provider),"
	" (SELECT max(e.received_at) FROM external_events e"
	" WHERE e.project_id = x.project_id AND e.provider = x.provider)) FROM touched x"
	" ON CONFLICT (project_id, provider) DO UPDATE SET last_event_at = EXCLUDED.last_event_at"
	" WHERE t.last_event_at IS DISTINCT FROM EXCLUDED.last_event_at",

	/* which subscriptions, customers and payments are recomputed rather than merged */
	"INSERT INTO stage_full SELECT DISTINCT 's', project_id, provider, subscription_id"
	" FROM stage_norm WHERE NOT ins AND subscription_id IS NOT NULL"
	" UNION SELECT DISTINCT 'c', project_id, provider, customer_id"
	" FROM stage_norm WHERE NOT ins AND customer_id IS NOT NULL"
	" UNION SELECT DISTINCT 'p', project_id, provider, payment_id"
	" FROM stage_norm WHERE NOT ins AND payment_id IS NOT NULL",

	/* a subscription, customer or payment no processed event names any more
	 * (a re-run turned its events into others' or ignored ones) goes, as in a
	 * clean load */
	"DELETE FROM subscriptions t USING stage_full f WHERE f.kind = 's' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.subscription_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.subscription_id = f.id AND n.status = 'processed')",
	"DELETE FROM customers t USING stage_full f WHERE f.kind = 'c' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.customer_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.customer_id = f.id AND n.status = 'processed')",
	"DELETE FROM payments t USING stage_full f WHERE f.kind = 'p' AND t.project_id = f.project_id"
	" AND t.provider = f.provider AND t.payment_id = f.id AND NOT EXISTS (SELECT 1"
	" FROM external_events_normalized n WHERE n.project_id = f.project_id AND n.provider = f.provider"
	" AND n.payment_id = f.id AND n.status = 'processed')",

	/* and the subscriptions whose plan's period a merge cannot tell: the period
	 * is told by an event that names the plan the subscription has (TOLD_PLAN),
	 * so when the batch's events that name a plan or tell a period name more than
	 * one (no plan counted as one), or another than the stored row's, the period
	 * may be an older event's (a switch back to a plan had before). A row a
	 * subscription.* event set, or a batch that has one, needs none: that event
	 * gives every field. Nor does a row with no plan and no period (none of its
	 * events named a plan or told a period: the batch's are all there is).
	 * After the deletes: the batch has processed events naming each of these,
	 * so none goes, and the deletes' lookups are for a re-run's rows alone. */
	"INSERT INTO stage_full SELECT 's', b.project_id, b.provider, b.subscription_id FROM"
	" (SELECT project_id, provider, subscription_id, min(sub->>'price_id') AS lo, max(sub->>'price_id') AS hi,"
	" bool_or(sub->>'price_id' IS NULL) AS none, bool_or(" SUB_AUTH("provider", "event_type") ") AS auth"
	" FROM stage_norm WHERE ins AND status = 'processed' AND subscription_id IS NOT NULL"
	" AND (sub->>'price_id' IS NOT NULL OR sub->>'interval' IS NOT NULL OR sub->>'interval_count' IS NOT NULL)"
	" GROUP BY 1, 2, 3) b"
	" LEFT JOIN subscriptions t ON (t.project_id, t.provider, t.subscription_id) ="
	" (b.project_id, b.provider, b.subscription_id)"
	" WHERE NOT b.auth AND (t.subscription_id IS NULL OR t.fill_event_id IS NOT NULL)"
	" AND (b.lo <> b.hi OR (b.none AND b.lo IS NOT NULL) OR (t.subscription_id IS NOT NULL"
	" AND ((t.price_id IS DISTINCT FROM b.lo AND (t.price_id IS NOT NULL OR t.interval IS NOT NULL"
	" OR t.interval_count IS NOT NULL)) OR (b.none AND t.price_id IS NOT NULL))))"
	" AND (b.project_id, b.provider, b.subscription_id) NOT IN (" FULL_KEYS("s") ")",

	/* subscriptions recomputed from every processed event that names them.
	 * subscription.* events are the authority (a null there is a value: a
	 * cancellation undone); other events (invoices) carry partial sections that
	 * only fill fields no subscription event gave. Of subscription.* events the
	 * latest by (occurred_at, SUB_RANK, external_event_id) wins; of the others,
	 * for each field, the latest by (fo, occurred_at, external_event_id); so any
	 * order ends the same. The plan is the chosen event's plan_code, else the
	 * price mapping, else NULL. */
	"WITH touched AS (SELECT project_id, provider, id AS subscription_id FROM stage_full WHERE kind = 's'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.subscription_id," SUB_EV_COLS
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, subscription_id)"
	" WHERE n.status = 'processed'),"
	/* one window a query level, each level's rows narrow: a window aggregate's
	 * array is its partition's, and a level's first window's arrays rode in
	 * every row through the next window's sort, quadratic in a subscription's
	 * events (4 000 events: 4 s a recompute; audit-RB2 3) */
	" agg AS (SELECT project_id, provider, subscription_id, c_id AS customer_id,"
	" c_occ AS customer_id_occurred_at, c_eid AS customer_id_event_id, ps," SUB_FIELDS(NAME_OF, _)
	" occ AS state_occurred_at, id AS state_event_id, event_type AS state_event_type,"
	" fill_asof, fill_occ, fill_id FROM (SELECT *, row_number() OVER wa AS rn FROM"
	" (SELECT project_id, provider, subscription_id, auth, occ, id, event_type, c_id, c_occ, c_eid,"
	" ps," SUB_FIELDS(EACH_FT, SUB_FIELD)
	" " FILL_ARRAY(R_ASOF) " AS fill_asof, " FILL_ARRAY(R_OCC) " AS fill_occ, " FILL_ARRAY(R_ID) " AS fill_id"
	" FROM (SELECT *,"
	" (array_agg(customer_id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_id,"
	" (array_agg(occ) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_occ,"
	" (array_agg(id) FILTER (WHERE customer_id IS NOT NULL) OVER wc)[1] AS c_eid"
	" FROM (SELECT *, (array_agg(s) FILTER (WHERE auth OR price_id IS NOT NULL) OVER wf)[1] AS ps"
	" FROM ev WINDOW wf AS " SUB_WF ") ev"
	" WINDOW wc AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC" WHOLE ")) ev"
	" WINDOW wf AS " SUB_WF ") ev"
	" WINDOW wa AS (PARTITION BY " SUB_KEY " ORDER BY auth DESC, occ DESC, " AUTH_RANK " DESC, id DESC" WHOLE ")) x"
	" WHERE rn = 1)"
	" INSERT INTO subscriptions AS t (project_id, provider, subscription_id," SUB_COLS ")"
	" SELECT a.project_id, a.provider, a.subscription_id, a.customer_id,"
	" COALESCE(a.ps->>'plan_code', pp.plan_id), a.ps->>'price_id'," SUB_FIELDS(CAST_OF, _)
	" state_occurred_at, state_event_id, state_event_type,"
	" customer_id_occurred_at, customer_id_event_id, a.ps->>'plan_code',"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_asof END,"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_occ END,"
	" CASE WHEN " SUB_AUTH("a.provider", "state_event_type") " THEN NULL ELSE fill_id END"
	" FROM agg a LEFT JOIN plan_prices pp ON pp.provider = a.provider AND pp.price_id = a.ps->>'price_id'"
	" ON CONFLICT (project_id, provider, subscription_id) DO UPDATE SET"
	" customer_id = EXCLUDED.customer_id, customer_occurred_at = EXCLUDED.customer_occurred_at,"
	" customer_event_id = EXCLUDED.customer_event_id," SUB_AUTH_COLS(SUB_SET)
	" state_event_type = EXCLUDED.state_event_type, fill_as_of = EXCLUDED.fill_as_of,"
	" fill_occurred_at = EXCLUDED.fill_occurred_at, fill_event_id = EXCLUDED.fill_event_id"
	" WHERE (t.customer_id, t.customer_occurred_at, t.customer_event_id," SUB_AUTH_COLS(SUB_DIFF_T)
	" t.state_event_type, t.fill_as_of, t.fill_occurred_at, t.fill_event_id) IS DISTINCT FROM (EXCLUDED.customer_id,"
	" EXCLUDED.customer_occurred_at, EXCLUDED.customer_event_id," SUB_AUTH_COLS(SUB_DIFF_X)
	" EXCLUDED.state_event_type, EXCLUDED.fill_as_of, EXCLUDED.fill_occurred_at, EXCLUDED.fill_event_id)",

	/* subscriptions merged with the batch's new events: the latest new
	 * subscription.* event replaces the fields when it beats the stored one;
	 * without one on either side each field is the latest that had it (its
	 * stamp, FILL); customer_id is the latest non-null by its stamp */
	"WITH ev AS (SELECT n.project_id, n.provider, n.subscription_id, n.external_event_id AS id,"
	" n.event_type, " SUB_AUTH("n.provider", "n.event_type") " AS auth,"
	" COALESCE(n.occurred_at, '-infinity') AS occ, n.sub AS s, n.customer_id,"
	" " FILL_AT(SUB_AUTH("n.provider", "n.event_type"), "n.sub", "COALESCE(n.occurred_at, '-infinity')")
	" AS fo FROM stage_norm n"
	" WHERE n.ins AND n.status = 'processed' AND n.subscription_id IS NOT NULL"
	" AND (n.project_id, n.provider, n.subscription_id) NOT IN (" FULL_KEYS("s") ")),"
	/* each subscription's new events latest first: the latest with a customer
	 * gives customer_id, the latest subscription.* event (pa) the rest, or
	 * without one the latest event (position 1) the state and each field's
	 * latest value (p_f) the fields */
	" b AS MATERIALIZED (SELECT " SUB_KEY ", c[pc] AS customer_id, o[pc] AS customer_id_occurred_at,"
	" i[pc] AS customer_id_event_id, ss[coalesce(pa, p_price_id)] AS ps,"
	SUB_FIELDS(EACH_F, B_VAL)
	" o[coalesce(pa, 1)] AS occ, i[coalesce(pa, 1)] AS id, et[coalesce(pa, 1)] AS event_type,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_ASOF) " END AS fill_asof,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_OCC) " END AS fill_occ,"
	" CASE WHEN pa IS NULL THEN " FILL_ARRAY(B_ID) " END AS fill_id"
	" FROM (SELECT " SUB_KEY ", rn, array_agg(s) OVER w AS ss, array_agg(occ) OVER w AS o,"
	" array_agg(id) OVER w AS i, array_agg(event_type) OVER w AS et, array_agg(customer_id) OVER w AS c,"
	" array_agg(fo) OVER w AS fa,"
	" min(rn) FILTER (WHERE customer_id IS NOT NULL) OVER w AS pc,"
	" min(rn) FILTER (WHERE auth AND rna = 1) OVER w AS pa," B_POS("price_id")
	SUB_FIELDS(EACH_F, B_POS) " 0 AS _end"
	" FROM (SELECT *, row_number() OVER w AS rn, row_number() OVER wr AS rna FROM ev"
	" WINDOW w AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC),"
	" wr AS (PARTITION BY " SUB_KEY " ORDER BY auth DESC, occ DESC, " SUB_RANK("event_type")
	" DESC, id DESC)) r"
	" WINDOW w AS (PARTITION BY " SUB_KEY " ORDER BY occ DESC, id DESC" WHOLE "),"
	" wf AS (PARTITION BY " SUB_KEY " ORDER BY fo DESC, occ DESC, id DESC" WHOLE ")) x WHERE rn = 1)"
	" INSERT INTO subscriptions AS t (project_id, provider, subscription_id," SUB_COLS ")"
	" SELECT b.project_id, b.provider, b.subscription_id, b.customer_id,"
	" COALESCE(ps->>'plan_code', pp.plan_id), ps->>'price_id'," SUB_FIELDS(CAST_OF, _)
	" occ, id, event_type, customer_id_occurred_at,"
	" customer_id_event_id, ps->>'plan_code', fill_asof, fill_occ, fill_id"
	" FROM b LEFT JOIN plan_prices pp ON pp.provider = b.provider AND pp.price_id = b.ps->>'price_id'"
	" ON CONFLICT (project_id, provider, subscription_id) DO UPDATE SET"
	PICK(NEWER("customer"), "customer_id") PICK(NEWER("customer"), "customer_occurred_at")
	PICK(NEWER("customer"), "customer_event_id") SUB_FILL_COLS(FILL_PICK)
	STATE_PICK("state_occurred_at") STATE_PICK("state_event_id") STATE_PICK("state_event_type")
	" fill_as_of = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_ASOF) " END,"
	" fill_occurred_at = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_OCC) " END,"
	" fill_event_id = CASE WHEN " X_AUTH " OR " T_AUTH " THEN NULL ELSE " INDEX_ARRAY(FILL_ID) " END"
	/* a merge that changes nothing writes nothing */
	" WHERE " TAKE_ALL " OR " STATE_NEWER " OR " NEWER("customer") EACH_INDEX(FILL_ANY),

	/* the plan follows the price mapping as it is now, for every subscription the
	 * batch names (a replay after ops added a mapping sets the plan), the rows
	 * this transaction wrote above too: a merge that kept the stored price (a
	 * newer customer stamp only, an invoice a subscription event outranks)
	 * kept its stored plan, mapped before. One key probe each (LIMIT 1): as a
	 * join the planner chose, for one scratch slot in two, a hash join over the
	 * whole table, a cost growing with it. */
	"UPDATE subscriptions t SET plan_id = v.plan_id FROM (SELECT s.row, s.old,"
	" COALESCE(s.event_plan_code, (SELECT pp.plan_id FROM plan_prices pp"
	" WHERE pp.provider = s.provider AND pp.price_id = s.price_id)) AS plan_id"
	" FROM (SELECT DISTINCT project_id, provider, subscription_id FROM stage_ev"
	" WHERE status = 'processed' AND subscription_id IS NOT NULL) x CROSS JOIN LATERAL"
	" (SELECT s.ctid AS row, s.provider, s.price_id, s.event_plan_code, s.plan_id AS old"
	" FROM subscriptions s WHERE (s.project_id, s.provider, s.subscription_id) ="
	" (x.project_id, x.provider, x.subscription_id) LIMIT 1) s) v"
	" WHERE t.ctid = v.row AND v.old IS DISTINCT FROM v.plan_id"
	/* a plan set by hand stays (sql/016's trigger would keep it: no write at all) */
	" AND t.plan_set_by_hand_at IS NULL",

	/* payments recomputed from every processed event about them (see below) */
	"WITH touched AS (SELECT project_id, provider, id AS payment_id FROM stage_full WHERE kind = 'p'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.payment_id, n.customer_id,"
	" n.external_event_id, n.event_type, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" n.event->'payment' AS pay, (n.event->>'livemode')::boolean AS livemode"
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, payment_id)"
	" WHERE n.status = 'processed'),"
	PAY_UPSERT("") PAY_FIELDS(PAY_SET) " customer_id = EXCLUDED.customer_id,"
	" customer_occurred_at = EXCLUDED.customer_occurred_at, customer_event_id = EXCLUDED.customer_event_id,"
	" state_occurred_at = EXCLUDED.state_occurred_at, state_event_id = EXCLUDED.state_event_id,"
	" state_event_type = EXCLUDED.state_event_type, fill_occurred_at = EXCLUDED.fill_occurred_at,"
	" fill_event_id = EXCLUDED.fill_event_id"
	" WHERE (" PAY_FIELDS(PAY_T) " t.customer_id, t.customer_occurred_at, t.customer_event_id,"
	" t.state_occurred_at, t.state_event_id, t.state_event_type, t.fill_occurred_at, t.fill_event_id)"
	" IS DISTINCT FROM (" PAY_FIELDS(PAY_X) " EXCLUDED.customer_id, EXCLUDED.customer_occurred_at,"
	" EXCLUDED.customer_event_id, EXCLUDED.state_occurred_at, EXCLUDED.state_event_id,"
	" EXCLUDED.state_event_type, EXCLUDED.fill_occurred_at, EXCLUDED.fill_event_id)",

	/* payments merged with the batch's events: the state of the latest event
	 * about it; customer_id and each field of PAY_FILL the latest non-null, by
	 * its stamp (a refund webhook that names no customer or subscription keeps
	 * the ones an earlier event gave) */
	"WITH ev AS (SELECT s.project_id, s.provider, s.payment_id, s.customer_id, s.external_event_id,"
	" s.event_type, COALESCE(s.occurred_at, '-infinity') AS occ, s.event->'payment' AS pay,"
	" (s.event->>'livemode')::boolean AS livemode, s.seq FROM stage_ev s"
	" WHERE s.status = 'processed' AND s.payment_id IS NOT NULL"
	" AND (s.project_id, s.provider, s.payment_id) NOT IN (" FULL_KEYS("p") ")),"
	PAY_UPSERT(", seq DESC") PAY_STATE(PAY_PICK) PAY_FILL(FILL_MERGE, _)
	PICK(NEWER("customer"), "customer_id") PICK(NEWER("customer"), "customer_occurred_at")
	PICK(NEWER("customer"), "customer_event_id") PAY_PICK("state_occurred_at")
	PAY_PICK("state_event_id") " state_event_type = CASE WHEN " PAY_LATEST
	" THEN EXCLUDED.state_event_type ELSE t.state_event_type END,"
	" fill_occurred_at = ARRAY[" PAY_FILL(FILL_MERGE_OCC, _) "],"
	" fill_event_id = ARRAY[" PAY_FILL(FILL_MERGE_ID, _) "]"
	" WHERE " PAY_ORDER("EXCLUDED.") " > " PAY_ORDER("t.")
	" OR ((EXCLUDED.state_occurred_at, EXCLUDED.state_event_id) = (t.state_occurred_at, t.state_event_id)"
	" AND (" PAY_STATE(PAY_T) " t.state_event_type) IS DISTINCT FROM (" PAY_STATE(PAY_X)
	" EXCLUDED.state_event_type)) OR " NEWER("customer") PAY_FILL(FILL_ANY_NEWER, _),

	/* customers recomputed from every processed event that names them; each
	 * field is its latest non-null value, so partial sections never erase */
	"WITH touched AS (SELECT project_id, provider, id AS customer_id FROM stage_full WHERE kind = 'c'),"
	" ev AS MATERIALIZED (SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,"
	" n.event_type, n.occurred_at, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" " CUS_AUTH("n.provider", "n.event_type") " AS auth,"
	" " CUS_AS_OF(CUS_AUTH("n.provider", "n.event_type"), "n.provider", "n.provider_event_type",
		      "n.external_event_id", "n.event", "COALESCE(n.occurred_at, '-infinity')") " AS fo,"
	" n.event #>> '{customer,email}' AS email, n.event #>> '{customer,name}' AS name,"
	" n.event #>> '{customer,phone}' AS phone, n.event #>> '{customer,country}' AS country"
	" FROM touched JOIN external_events_normalized n USING (project_id, provider, customer_id)"
	" WHERE n.status = 'processed')" CUS_CTES
	" INSERT INTO customers AS t (project_id, provider, customer_id," CUS_COLS ")" CUS_SELECT
	" ON CONFLICT (project_id, provider, customer_id) DO UPDATE SET"
	SET3("email") SET3("name") SET3("phone") SET3("country")
	" deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at,"
	" first_event_at = EXCLUDED.first_event_at, state_occurred_at = EXCLUDED.state_occurred_at,"
	" state_event_id = EXCLUDED.state_event_id"
	" WHERE (" STAMPED("t.", "email") ", " STAMPED("t.", "name") ", " STAMPED("t.", "phone") ", "
	STAMPED("t.", "country") ", t.deleted, t.deleted_at, t.first_event_at, t.state_occurred_at,"
	" t.state_event_id) IS DISTINCT FROM (" STAMPED("EXCLUDED.", "email") ", "
	STAMPED("EXCLUDED.", "name") ", " STAMPED("EXCLUDED.", "phone") ", "
	STAMPED("EXCLUDED.", "country") ", EXCLUDED.deleted,"
	" EXCLUDED.deleted_at, EXCLUDED.first_event_at, EXCLUDED.state_occurred_at, EXCLUDED.state_event_id)",

	/* customers merged with the batch's new events, field by field */
	"WITH ev AS (SELECT n.project_id, n.provider, n.customer_id, n.external_event_id AS id,"
	" n.event_type, n.occurred_at, COALESCE(n.occurred_at, '-infinity') AS occ,"
	" " CUS_AUTH("n.provider", "n.event_type") " AS auth, n.cus_as_of AS fo, n.email, n.name,"
	" n.phone, n.country FROM stage_norm n"
	" WHERE n.ins AND n.status = 'processed' AND n.customer_id IS NOT NULL"
	" AND (n.project_id, n.provider, n.customer_id) NOT IN (" FULL_KEYS("c") "))" CUS_CTES
	" INSERT INTO customers AS t (project_id, provider, customer_id," CUS_COLS ")" CUS_SELECT
	" ON CONFLICT (project_id, provider, customer_id) DO UPDATE SET"
	MERGE("email") MERGE("name") MERGE("phone") MERGE("country")
	" deleted = " CUS_DELETED ", deleted_at = " CUS_DELETED_AT ", first_event_at = " CUS_FIRST ","
	" state_occurred_at = " CUS_STATE_OCC ", state_event_id = " CUS_STATE_ID
	/* a merge that changes nothing writes nothing */
	" WHERE " CNEWER("email") " OR " CNEWER("name") " OR " CNEWER("phone") " OR " CNEWER("country")
	" OR " CUS_DELETED " IS DISTINCT FROM t.deleted OR " CUS_DELETED_AT " IS DISTINCT FROM t.deleted_at"
	" OR " CUS_FIRST " IS DISTINCT FROM t.first_event_at"
	" OR " CUS_STATE_OCC " IS DISTINCT FROM t.state_occurred_at"
	" OR " CUS_STATE_ID " IS DISTINCT FROM t.state_event_id",
};

const char count_sql[] =
	"SELECT count(*) FILTER (WHERE kind = 'r' AND ins), count(*) FILTER (WHERE kind = 'r' AND NOT ins),"
	" count(*) FILTER (WHERE kind = 'e' AND ins), count(*) FILTER (WHERE kind = 'e' AND NOT ins)"
	" FROM (SELECT CASE WHEN kind = 'r' THEN 'r' ELSE 'e' END AS kind, provider, external_event_id,"
	" bool_or(kind IN ('r', 'e') AND ins) AS ins FROM (SELECT kind, provider, external_event_id, ins"
	" FROM stage_changed UNION ALL SELECT kind, provider, external_event_id, ins FROM stage_norm"
	" WHERE kind = 'n') c GROUP BY 1, 2, 3) x";
/* The batch's raw records that are later copies of a stored event with other
 * content, or earlier copies that replaced a stored one of other content (the
 * statements above put them in stage_kept): the record (seq), the source of
 * the other copy, and which. Said once the batch is committed. */
const char not_kept_sql[] =
	"SELECT DISTINCT ON (seq) seq, kept, replaced FROM stage_kept ORDER BY seq, replaced";
const size_t n_upserts = sizeof upserts / sizeof upserts[0];
