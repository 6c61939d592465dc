using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TestCustomersEventsNotDelivered : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A test clock's customers keep their events (their history reads the same as a real customer's), but no endpoint
            // gets a delivery of them: a rehearsal never reaches the systems the real endpoints feed. Deliveries of theirs
            // still pending are dropped with their tries.
            migrationBuilder.Sql("""
                create or replace function events_fan_out() returns trigger language plpgsql as $$
                begin
                    insert into event_deliveries (id, event_id, endpoint_id, status, attempts, created_at)
                    select gen_random_uuid(), e.id, p.id, 'pending', 0, e.created_at
                    from new_events e join event_endpoints p on p.enabled and e.type = any(p.event_types)
                    where not exists (select 1 from customers c where c.id = e.customer_id and c.test_clock_id is not null);
                    return null;
                end $$;

                create temporary table test_deliveries on commit drop as
                    select d.id from event_deliveries d join events e on e.id = d.event_id join customers c on c.id = e.customer_id
                    where c.test_clock_id is not null and d.status = 'pending';
                delete from event_delivery_attempts where delivery_id in (select id from test_deliveries);
                delete from event_deliveries where id in (select id from test_deliveries);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                create or replace function events_fan_out() returns trigger language plpgsql as $$
                begin
                    insert into event_deliveries (id, event_id, endpoint_id, status, attempts, created_at)
                    select gen_random_uuid(), e.id, p.id, 'pending', 0, e.created_at
                    from new_events e join event_endpoints p on p.enabled and e.type = any(p.event_types);
                    return null;
                end $$;
                """);
        }
    }
}
