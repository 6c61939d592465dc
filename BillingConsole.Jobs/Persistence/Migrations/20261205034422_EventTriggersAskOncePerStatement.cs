using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <summary>
    /// The outgoing-event triggers whose event type depends on the row read the types some endpoint wants once per statement
    /// and stop at once when none is enabled, instead of asking <c>event_wanted</c> for every row a billing run or a retry pass
    /// writes.
    /// </summary>
    public partial class EventTriggersAskOncePerStatement : Migration
    {
        /// <summary>The start of each function: the event types some enabled endpoint subscribes to, or nothing to do.</summary>
        private const string WantedTypes = """
            declare
                wanted text[] := array(select distinct t from event_endpoints p cross join unnest(p.event_types) as t where p.enabled);
            begin
                if cardinality(wanted) = 0 then
                    return null;
                end if;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION public.invoices_issued_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                {{WantedTypes}}
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), t.type, 'invoice', n.id, n.id, n.customer_id, coalesce(t.at, now())
                    from new_rows n
                    cross join lateral (values (1, 'invoice.issued', n.issued_at, n.issued_at is not null),
                                               (2, 'invoice.paid', n.paid_at, n.status = 'paid')) t(step, type, at, applies)
                    where t.applies and t.type = any(wanted)
                    order by n.id, t.step;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION public.invoices_changed_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                {{WantedTypes}}
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), c.type, 'invoice', c.id, c.id, c.customer_id, coalesce(c.at, now())
                    from (
                        select n.id, n.customer_id,
                               case when o.status = 'draft' and n.status = 'open' then 'invoice.issued'
                                    when n.status = 'paid' then 'invoice.paid'
                                    when n.status = 'void' then 'invoice.voided'
                                    when n.status = 'uncollectible' then 'invoice.uncollectible' end as type,
                               case n.status when 'paid' then n.paid_at when 'void' then n.voided_at
                                             when 'uncollectible' then n.marked_uncollectible_at else n.issued_at end as at
                        from new_rows n join old_rows o on o.id = n.id
                        where n.status is distinct from o.status
                    ) c
                    where c.type = any(wanted)
                    order by c.id;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION public.payment_attempts_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                {{WantedTypes}}
                    if tg_op = 'INSERT' then
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), payment_event_type(n.status), 'payment', n.id, n.invoice_id, n.customer_id, coalesce(n.completed_at, n.started_at)
                        from new_rows n
                        where payment_event_type(n.status) = any(wanted)
                        order by n.started_at, n.id;
                    else
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), payment_event_type(n.status), 'payment', n.id, n.invoice_id, n.customer_id, coalesce(n.completed_at, n.started_at)
                        from new_rows n join old_rows o on o.id = n.id
                        where n.status is distinct from o.status and payment_event_type(n.status) = any(wanted)
                        order by n.started_at, n.id;
                    end if;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION public.subscriptions_changed_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                {{WantedTypes}}
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), c.type, 'subscription', c.id, c.id, c.customer_id, coalesce(c.at, now())
                    from (
                        select n.id, n.customer_id,
                               case when n.status = 'canceled' and o.status <> 'canceled' then 'subscription.canceled'
                                    when n.status = 'paused' and o.status <> 'paused' then 'subscription.paused'
                                    when o.status = 'paused' and n.status <> 'paused' then 'subscription.resumed'
                                    when (n.status, n.price_id, n.quantity, n.cancel_at_period_end, n.pending_price_id, n.pending_quantity, n.trial_end)
                                         is distinct from (o.status, o.price_id, o.quantity, o.cancel_at_period_end, o.pending_price_id, o.pending_quantity, o.trial_end)
                                         then 'subscription.updated' end as type,
                               case n.status when 'canceled' then n.canceled_at when 'paused' then n.paused_at end as at
                        from new_rows n join old_rows o on o.id = n.id
                    ) c
                    where c.type = any(wanted)
                    order by c.id;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION public.dunning_cases_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                {{WantedTypes}}
                    if tg_op = 'INSERT' then
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), 'dunning_case.opened', 'dunning_case', n.id, n.invoice_id, n.customer_id, n.opened_at
                        from new_rows n
                        where 'dunning_case.opened' = any(wanted)
                        order by n.opened_at, n.id;
                    else
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), c.type, 'dunning_case', c.id, c.invoice_id, c.customer_id, c.at
                        from (
                            select n.id, n.invoice_id, n.customer_id, coalesce(n.closed_at, n.updated_at) as at,
                                   case when n.status = 'recovered' then 'dunning_case.recovered'
                                        when n.status in ('closed', 'exhausted') then 'dunning_case.closed' end as type
                            from new_rows n join old_rows o on o.id = n.id
                            where n.status is distinct from o.status
                        ) c
                        where c.type = any(wanted)
                        order by c.at, c.id;
                    end if;
                    return null;
                end $function$
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.invoices_issued_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), t.type, 'invoice', n.id, n.id, n.customer_id, coalesce(t.at, now())
                    from new_rows n
                    cross join lateral (values (1, 'invoice.issued', n.issued_at, n.issued_at is not null),
                                               (2, 'invoice.paid', n.paid_at, n.status = 'paid')) t(step, type, at, applies)
                    where t.applies and event_wanted(t.type)
                    order by n.id, t.step;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.invoices_changed_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), c.type, 'invoice', c.id, c.id, c.customer_id, coalesce(c.at, now())
                    from (
                        select n.id, n.customer_id,
                               case when o.status = 'draft' and n.status = 'open' then 'invoice.issued'
                                    when n.status = 'paid' then 'invoice.paid'
                                    when n.status = 'void' then 'invoice.voided'
                                    when n.status = 'uncollectible' then 'invoice.uncollectible' end as type,
                               case n.status when 'paid' then n.paid_at when 'void' then n.voided_at
                                             when 'uncollectible' then n.marked_uncollectible_at else n.issued_at end as at
                        from new_rows n join old_rows o on o.id = n.id
                        where n.status is distinct from o.status
                    ) c
                    where event_wanted(c.type)
                    order by c.id;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.payment_attempts_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                begin
                    if tg_op = 'INSERT' then
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), payment_event_type(n.status), 'payment', n.id, n.invoice_id, n.customer_id, coalesce(n.completed_at, n.started_at)
                        from new_rows n
                        where event_wanted(payment_event_type(n.status))
                        order by n.started_at, n.id;
                    else
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), payment_event_type(n.status), 'payment', n.id, n.invoice_id, n.customer_id, coalesce(n.completed_at, n.started_at)
                        from new_rows n join old_rows o on o.id = n.id
                        where n.status is distinct from o.status and event_wanted(payment_event_type(n.status))
                        order by n.started_at, n.id;
                    end if;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.subscriptions_changed_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), c.type, 'subscription', c.id, c.id, c.customer_id, coalesce(c.at, now())
                    from (
                        select n.id, n.customer_id,
                               case when n.status = 'canceled' and o.status <> 'canceled' then 'subscription.canceled'
                                    when n.status = 'paused' and o.status <> 'paused' then 'subscription.paused'
                                    when o.status = 'paused' and n.status <> 'paused' then 'subscription.resumed'
                                    when (n.status, n.price_id, n.quantity, n.cancel_at_period_end, n.pending_price_id, n.pending_quantity, n.trial_end)
                                         is distinct from (o.status, o.price_id, o.quantity, o.cancel_at_period_end, o.pending_price_id, o.pending_quantity, o.trial_end)
                                         then 'subscription.updated' end as type,
                               case n.status when 'canceled' then n.canceled_at when 'paused' then n.paused_at end as at
                        from new_rows n join old_rows o on o.id = n.id
                    ) c
                    where event_wanted(c.type)
                    order by c.id;
                    return null;
                end $function$
                """);

            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.dunning_cases_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                AS $function$
                begin
                    if tg_op = 'INSERT' then
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), 'dunning_case.opened', 'dunning_case', n.id, n.invoice_id, n.customer_id, n.opened_at
                        from new_rows n
                        where event_wanted('dunning_case.opened')
                        order by n.opened_at, n.id;
                    else
                        insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                        select gen_random_uuid(), c.type, 'dunning_case', c.id, c.invoice_id, c.customer_id, c.at
                        from (
                            select n.id, n.invoice_id, n.customer_id, coalesce(n.closed_at, n.updated_at) as at,
                                   case when n.status = 'recovered' then 'dunning_case.recovered'
                                        when n.status in ('closed', 'exhausted') then 'dunning_case.closed' end as type
                            from new_rows n join old_rows o on o.id = n.id
                            where n.status is distinct from o.status
                        ) c
                        where event_wanted(c.type)
                        order by c.at, c.id;
                    end if;
                    return null;
                end $function$
                """);
        }
    }
}
