using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class OutgoingEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "event_endpoints",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    url = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    event_types = table.Column<string[]>(type: "text[]", nullable: false),
                    secret = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    disabled_reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    disabled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_event_endpoints", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "events",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    type = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    object_type = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    object_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ordering_key = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    body = table.Column<string>(type: "text", maxLength: 512, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_events", x => x.id);
                    table.UniqueConstraint("ak_events_sequence", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "event_deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    event_id = table.Column<Guid>(type: "uuid", nullable: false),
                    endpoint_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    first_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_status_code = table.Column<int>(type: "integer", nullable: true),
                    last_error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_event_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_event_deliveries_event_endpoints_endpoint_id",
                        column: x => x.endpoint_id,
                        principalTable: "event_endpoints",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_event_deliveries_events_event_id",
                        column: x => x.event_id,
                        principalTable: "events",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "event_delivery_attempts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    delivery_id = table.Column<Guid>(type: "uuid", nullable: false),
                    endpoint_id = table.Column<Guid>(type: "uuid", nullable: false),
                    attempted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    latency_ms = table.Column<int>(type: "integer", nullable: false),
                    response_excerpt = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_event_delivery_attempts", x => x.id);
                    table.ForeignKey(
                        name: "fk_event_delivery_attempts_event_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "event_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_event_delivery_attempts_event_endpoints_endpoint_id",
                        column: x => x.endpoint_id,
                        principalTable: "event_endpoints",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_event_deliveries_event_id_endpoint_id",
                table: "event_deliveries",
                columns: new[] { "event_id", "endpoint_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_event_deliveries_queue",
                table: "event_deliveries",
                columns: new[] { "endpoint_id", "next_attempt_at" },
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_event_delivery_attempts_delivery_id",
                table: "event_delivery_attempts",
                column: "delivery_id");

            migrationBuilder.CreateIndex(
                name: "ix_event_delivery_attempts_endpoint_id_attempted_at",
                table: "event_delivery_attempts",
                columns: new[] { "endpoint_id", "attempted_at" });

            migrationBuilder.CreateIndex(
                name: "ix_events_ordering_key_sequence",
                table: "events",
                columns: new[] { "ordering_key", "sequence" });

            migrationBuilder.Sql("""
                -- Outgoing events, written by the database in the transaction of the change they record, one INSERT … SELECT per
                -- statement that changed rows (statement triggers over transition tables), so the billing run's batches stay set-based.
                -- An event is written only when an enabled endpoint wants its type; each wanting endpoint gets a pending delivery.

                create function event_wanted(event_type text) returns boolean language sql stable as $$
                    select exists (select 1 from event_endpoints p where p.enabled and event_type = any(p.event_types))
                $$;

                create function events_fan_out() returns trigger language plpgsql as $$
                begin
                    insert into event_deliveries (id, event_id, endpoint_id, status, attempts, created_at)
                    select gen_random_uuid(), e.id, p.id, 'pending', 0, e.created_at
                    from new_events e join event_endpoints p on p.enabled and e.type = any(p.event_types);
                    return null;
                end $$;

                create trigger events_fan_out after insert on events
                    referencing new table as new_events for each statement execute function events_fan_out();

                -- An invoice written already settled (by credit) is issued and paid in the same statement, in that order.
                create function invoices_issued_events() returns trigger language plpgsql as $$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), t.type, 'invoice', n.id, n.id, n.customer_id, coalesce(t.at, now())
                    from new_rows n
                    cross join lateral (values (1, 'invoice.issued', n.issued_at, n.issued_at is not null),
                                               (2, 'invoice.paid', n.paid_at, n.status = 'paid')) t(step, type, at, applies)
                    where t.applies and event_wanted(t.type)
                    order by n.id, t.step;
                    return null;
                end $$;

                create trigger invoices_events_inserted after insert on invoices
                    referencing new table as new_rows for each statement execute function invoices_issued_events();

                create function invoices_changed_events() returns trigger language plpgsql as $$
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
                end $$;

                create trigger invoices_events_updated after update on invoices
                    referencing old table as old_rows new table as new_rows for each statement execute function invoices_changed_events();

                -- A payment's events go in order with its invoice's: their ordering key is the invoice.
                create function payment_event_type(status text) returns text language sql immutable as $$
                    select case status when 'succeeded' then 'payment.succeeded' when 'failed' then 'payment.failed' when 'refund_due' then 'refund.created' end
                $$;

                -- A payment's events go in order with its invoice's: their ordering key is the invoice. Transition tables are named per
                -- operation, so an insert and an update each read their own (plpgsql plans only the branch it runs).
                create function payment_attempts_events() returns trigger language plpgsql as $$
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
                end $$;

                create trigger payment_attempts_events_inserted after insert on payment_attempts
                    referencing new table as new_rows for each statement execute function payment_attempts_events();

                create trigger payment_attempts_events_updated after update on payment_attempts
                    referencing old table as old_rows new table as new_rows for each statement execute function payment_attempts_events();

                create function subscriptions_created_events() returns trigger language plpgsql as $$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), 'subscription.created', 'subscription', n.id, n.id, n.customer_id, n.created_at
                    from new_rows n
                    where event_wanted('subscription.created')
                    order by n.id;
                    return null;
                end $$;

                create trigger subscriptions_events_inserted after insert on subscriptions
                    referencing new table as new_rows for each statement execute function subscriptions_created_events();

                -- A renewal only moves the period, which is not an update a receiver is told of.
                create function subscriptions_changed_events() returns trigger language plpgsql as $$
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
                end $$;

                create trigger subscriptions_events_updated after update on subscriptions
                    referencing old table as old_rows new table as new_rows for each statement execute function subscriptions_changed_events();

                -- A dunning case's events go in order with its invoice's.
                create function dunning_cases_events() returns trigger language plpgsql as $$
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
                end $$;

                create trigger dunning_cases_events_inserted after insert on dunning_cases
                    referencing new table as new_rows for each statement execute function dunning_cases_events();

                create trigger dunning_cases_events_updated after update on dunning_cases
                    referencing old table as old_rows new table as new_rows for each statement execute function dunning_cases_events();

                create function dunning_case_steps_events() returns trigger language plpgsql as $$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), 'dunning_case.step_taken', 'dunning_case', d.id, d.invoice_id, d.customer_id, n.taken_at
                    from new_rows n join dunning_cases d on d.id = n.case_id
                    where event_wanted('dunning_case.step_taken')
                    order by n.taken_at, n.id;
                    return null;
                end $$;

                create trigger dunning_case_steps_events_inserted after insert on dunning_case_steps
                    referencing new table as new_rows for each statement execute function dunning_case_steps_events();

                -- What the API shows of a customer; the credit balance moves with invoices and payments, which have events of their own.
                create function customers_changed_events() returns trigger language plpgsql as $$
                begin
                    insert into events (id, type, object_type, object_id, ordering_key, customer_id, created_at)
                    select gen_random_uuid(), 'customer.updated', 'customer', n.id, n.id, n.id, now()
                    from new_rows n join old_rows o on o.id = n.id
                    where (n.name, n.email, n.currency, n.external_ref, n.tax_id, n.time_zone, n.collection_method, n.days_until_due,
                           n.address_line1, n.address_line2, n.address_city, n.address_postal_code, n.address_country)
                          is distinct from
                          (o.name, o.email, o.currency, o.external_ref, o.tax_id, o.time_zone, o.collection_method, o.days_until_due,
                           o.address_line1, o.address_line2, o.address_city, o.address_postal_code, o.address_country)
                      and event_wanted('customer.updated')
                    order by n.id;
                    return null;
                end $$;

                create trigger customers_events_updated after update on customers
                    referencing old table as old_rows new table as new_rows for each statement execute function customers_changed_events();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                drop trigger customers_events_updated on customers;
                drop trigger dunning_case_steps_events_inserted on dunning_case_steps;
                drop trigger dunning_cases_events_updated on dunning_cases;
                drop trigger dunning_cases_events_inserted on dunning_cases;
                drop trigger subscriptions_events_updated on subscriptions;
                drop trigger subscriptions_events_inserted on subscriptions;
                drop trigger payment_attempts_events_updated on payment_attempts;
                drop trigger payment_attempts_events_inserted on payment_attempts;
                drop trigger invoices_events_updated on invoices;
                drop trigger invoices_events_inserted on invoices;
                drop trigger events_fan_out on events;
                drop function customers_changed_events();
                drop function dunning_case_steps_events();
                drop function dunning_cases_events();
                drop function subscriptions_changed_events();
                drop function subscriptions_created_events();
                drop function payment_attempts_events();
                drop function payment_event_type(text);
                drop function invoices_changed_events();
                drop function invoices_issued_events();
                drop function events_fan_out();
                drop function event_wanted(text);
                """);

            migrationBuilder.DropTable(
                name: "event_delivery_attempts");

            migrationBuilder.DropTable(
                name: "event_deliveries");

            migrationBuilder.DropTable(
                name: "event_endpoints");

            migrationBuilder.DropTable(
                name: "events");
        }
    }
}
