using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RevenueRecognitionBuckets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "revenue_recognition_buckets",
                columns: table => new
                {
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    bucket = table.Column<long>(type: "bigint", nullable: false),
                    invoiced = table.Column<decimal>(type: "numeric", nullable: false),
                    constant = table.Column<decimal>(type: "numeric", nullable: false),
                    slope = table.Column<decimal>(type: "numeric", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_revenue_recognition_buckets", x => new { x.currency, x.bucket });
                });

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

            // Every change that moves revenue recognition (an invoice issued, an invoice voided) is queued for the fold in the
            // transaction that makes it, whichever code path makes it: statement-level for inserts (the billing run's COPY),
            // row-level only where issued_at or voided_at change.
            migrationBuilder.Sql("""
                create function revenue_recognition_inserted() returns trigger language plpgsql as $$
                begin
                  insert into revenue_recognition_pending (invoice_id, kind)
                  select id, 'issued' from inserted_invoices where issued_at is not null
                  union all
                  select id, 'voided' from inserted_invoices where voided_at is not null
                  on conflict do nothing;
                  return null;
                end $$;

                create function revenue_recognition_updated() returns trigger language plpgsql as $$
                begin
                  if old.issued_at is null and new.issued_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'issued') on conflict do nothing;
                  end if;
                  if old.voided_at is null and new.voided_at is not null then
                    insert into revenue_recognition_pending (invoice_id, kind) values (new.id, 'voided') on conflict do nothing;
                  end if;
                  return null;
                end $$;

                create trigger invoices_revenue_recognition_inserted after insert on invoices
                  referencing new table as inserted_invoices for each statement execute function revenue_recognition_inserted();

                create trigger invoices_revenue_recognition_updated after update of issued_at, voided_at on invoices for each row
                  when (old.issued_at is distinct from new.issued_at or old.voided_at is distinct from new.voided_at)
                  execute function revenue_recognition_updated();

                insert into revenue_recognition_pending (invoice_id, kind)
                select id, 'issued' from invoices where issued_at is not null
                union all
                select id, 'voided' from invoices where voided_at is not null;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                drop trigger invoices_revenue_recognition_inserted on invoices;
                drop trigger invoices_revenue_recognition_updated on invoices;
                drop function revenue_recognition_inserted();
                drop function revenue_recognition_updated();
                """);

            migrationBuilder.DropTable(
                name: "revenue_recognition_buckets");

            migrationBuilder.DropTable(
                name: "revenue_recognition_pending");
        }
    }
}
