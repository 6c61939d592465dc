using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TestCustomersKeptApart : Migration
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

            // The precomputed analytics never take in a test clock's customers: their invoices are not queued for the
            // deferred-revenue fold, their dunning cases not for the recovery facts (MrrRecorder leaves their subscriptions
            // out itself). A database that already folded some starts those tables over without them: the sums are refolded
            // from every other invoice, the facts of their cases dropped, and MRR recorded afresh from the subscriptions.
            migrationBuilder.Sql("""
                create or replace function revenue_recognition_inserted() returns trigger language plpgsql as $$
                begin
                  insert into revenue_recognition_pending (invoice_id, kind)
                  select id, 'issued' from inserted_invoices
                  where issued_at is not null and customer_id not in (select id from customers where test_clock_id is not null)
                  union all
                  select id, 'voided' from inserted_invoices
                  where voided_at is not null and customer_id not in (select id from customers where test_clock_id is not null)
                  on conflict do nothing;
                  return null;
                end $$;

                create or replace function revenue_recognition_updated() returns trigger language plpgsql as $$
                begin
                  if exists (select 1 from customers where id = new.customer_id and test_clock_id is not null) then
                    return null;
                  end if;
                  if old.issued_at is null and new.issued_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'issued') on conflict do nothing;
                  end if;
                  if old.voided_at is null and new.voided_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'voided') on conflict do nothing;
                  end if;
                  return null;
                end $$;

                create or replace function dunning_case_facts_changed() returns trigger language plpgsql as $$
                begin
                  insert into dunning_case_facts_pending (case_id)
                  select id from changed_cases where customer_id not in (select id from customers where test_clock_id is not null);
                  return null;
                end $$;

                do $$
                begin
                  if exists (select 1 from invoices where customer_id in (select id from customers where test_clock_id is not null)) then
                    delete from revenue_recognition_sums;
                    delete from revenue_recognition_pending;
                    insert into revenue_recognition_pending (invoice_id, kind)
                    select id, 'issued' from invoices
                    where issued_at is not null and customer_id not in (select id from customers where test_clock_id is not null)
                    union all
                    select id, 'voided' from invoices
                    where voided_at is not null and customer_id not in (select id from customers where test_clock_id is not null);
                  end if;
                  if exists (select 1 from mrr_subscription_states where customer_id in (select id from customers where test_clock_id is not null))
                     or exists (select 1 from mrr_movements where customer_id in (select id from customers where test_clock_id is not null)) then
                    delete from mrr_movements;
                    delete from mrr_subscription_states;
                    delete from mrr_snapshots;
                    delete from mrr_cohort_cells;
                  end if;
                end $$;

                delete from dunning_case_facts_pending
                where case_id in (select d.id from dunning_cases d join customers c on c.id = d.customer_id where c.test_clock_id is not null);
                delete from dunning_case_facts
                where case_id in (select d.id from dunning_cases d join customers c on c.id = d.customer_id where c.test_clock_id is not null);
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

                create or replace function revenue_recognition_inserted() returns trigger language plpgsql as $$
                begin
                  insert into revenue_recognition_pending (invoice_id, kind)
                  select id, 'issued' from inserted_invoices where issued_at is not null
                  union all
                  select id, 'voided' from inserted_invoices where voided_at is not null
                  on conflict do nothing;
                  return null;
                end $$;

                create or replace function revenue_recognition_updated() returns trigger language plpgsql as $$
                begin
                  if old.issued_at is null and new.issued_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'issued') on conflict do nothing;
                  end if;
                  if old.voided_at is null and new.voided_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'voided') on conflict do nothing;
                  end if;
                  return null;
                end $$;

                create or replace function dunning_case_facts_changed() returns trigger language plpgsql as $$
                begin
                  insert into dunning_case_facts_pending (case_id) select id from changed_cases;
                  return null;
                end $$;
                """);
        }
    }
}
