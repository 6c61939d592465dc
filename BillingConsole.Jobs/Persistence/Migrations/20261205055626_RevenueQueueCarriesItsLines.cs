using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <summary>
    /// The deferred-revenue queue holds lines, not invoices: each line of an invoice issued or voided, with its amount,
    /// currency, period and the instant of the change, so the fold and the live figures read one narrow table instead of
    /// joining every waiting invoice to its lines (right after a billing run tens of thousands wait). A line is always written
    /// after its invoice (foreign key), so the line's insert queues it when its invoice is already issued or voided, and
    /// issuing or voiding an invoice queues the lines it has.
    /// </summary>
    public partial class RevenueQueueCarriesItsLines : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "revenue_recognition_pending_lines",
                columns: table => new
                {
                    line_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    invoice_id = table.Column<Guid>(type: "uuid", nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    amount = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false),
                    period_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    period_end = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_revenue_recognition_pending_lines", x => new { x.line_id, x.kind });
                });

            migrationBuilder.Sql("""
                insert into revenue_recognition_pending_lines (line_id, kind, invoice_id, changed_at, currency, amount, period_start, period_end)
                select l.id, p.kind, p.invoice_id, case p.kind when 'issued' then i.issued_at else i.voided_at end,
                       l.currency, l.amount, l.period_start, l.period_end
                from revenue_recognition_pending p
                join invoices i on i.id = p.invoice_id
                join invoice_lines l on l.invoice_id = p.invoice_id
                where case p.kind when 'issued' then i.issued_at else i.voided_at end is not null;

                drop trigger invoices_revenue_recognition_inserted on invoices;
                drop function revenue_recognition_inserted();

                -- Read by key, line by line (offset 0 keeps the planner from hashing the whole invoices table for a statement
                -- whose rows it cannot count).
                create function revenue_recognition_lines_inserted() returns trigger language plpgsql as $$
                begin
                  insert into revenue_recognition_pending_lines (line_id, kind, invoice_id, changed_at, currency, amount, period_start, period_end)
                  select l.id, c.kind, l.invoice_id, c.changed_at, l.currency, l.amount, l.period_start, l.period_end
                  from inserted_lines l
                  cross join lateral (select issued_at, voided_at, customer_id from invoices where id = l.invoice_id offset 0) i
                  cross join lateral (values ('issued', i.issued_at), ('voided', i.voided_at)) as c(kind, changed_at)
                  where c.changed_at is not null and i.customer_id not in (select id from customers where test_clock_id is not null)
                  on conflict do nothing;
                  return null;
                end $$;

                create trigger invoice_lines_revenue_recognition_inserted after insert on invoice_lines
                  referencing new table as inserted_lines for each statement execute function revenue_recognition_lines_inserted();

                create or replace function revenue_recognition_updated() returns trigger language plpgsql as $$
                begin
                  if exists (select 1 from customers where id = new.customer_id and test_clock_id is not null) then
                    return null;
                  end if;
                  insert into revenue_recognition_pending_lines (line_id, kind, invoice_id, changed_at, currency, amount, period_start, period_end)
                  select l.id, c.kind, new.id, c.changed_at, l.currency, l.amount, l.period_start, l.period_end
                  from invoice_lines l
                  cross join (values ('issued', case when old.issued_at is null then new.issued_at end),
                                     ('voided', case when old.voided_at is null then new.voided_at end)) as c(kind, changed_at)
                  where l.invoice_id = new.id and c.changed_at is not null
                  on conflict do nothing;
                  return null;
                end $$;
                """);

            migrationBuilder.DropTable(
                name: "revenue_recognition_pending");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "revenue_recognition_pending",
                columns: table => new
                {
                    invoice_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_revenue_recognition_pending", x => new { x.invoice_id, x.kind });
                });

            migrationBuilder.Sql("""
                insert into revenue_recognition_pending (invoice_id, kind)
                select distinct invoice_id, kind from revenue_recognition_pending_lines;

                drop trigger invoice_lines_revenue_recognition_inserted on invoice_lines;
                drop function revenue_recognition_lines_inserted();

                create function revenue_recognition_inserted() returns trigger language plpgsql as $$
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

                create trigger invoices_revenue_recognition_inserted after insert on invoices
                  referencing new table as inserted_invoices for each statement execute function revenue_recognition_inserted();

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
                """);

            migrationBuilder.DropTable(
                name: "revenue_recognition_pending_lines");
        }
    }
}
