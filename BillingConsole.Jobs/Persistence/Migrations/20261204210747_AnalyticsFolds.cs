using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AnalyticsFolds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "dunning_case_facts",
                columns: table => new
                {
                    case_id = table.Column<Guid>(type: "uuid", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    amount = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false),
                    days_to_close = table.Column<double>(type: "double precision", nullable: true),
                    opening_decline_code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    retries = table.Column<int>(type: "integer", nullable: false),
                    succeeded_retry = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_dunning_case_facts", x => x.case_id);
                });

            migrationBuilder.CreateTable(
                name: "dunning_case_facts_pending",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    case_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_dunning_case_facts_pending", x => x.id);
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

            migrationBuilder.CreateTable(
                name: "revenue_recognition_sums",
                columns: table => new
                {
                    seconds = table.Column<int>(type: "integer", nullable: false),
                    start = table.Column<long>(type: "bigint", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    invoiced = table.Column<decimal>(type: "numeric", nullable: false),
                    constant = table.Column<decimal>(type: "numeric", nullable: false),
                    slope = table.Column<decimal>(type: "numeric", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_revenue_recognition_sums", x => new { x.seconds, x.start, x.currency });
                });

            migrationBuilder.CreateIndex(
                name: "ix_dunning_case_facts_opened_at",
                table: "dunning_case_facts",
                column: "opened_at")
                .Annotation("Npgsql:IndexInclude", new[] { "case_id", "status", "currency", "amount", "days_to_close", "opening_decline_code", "retries", "succeeded_retry" });

            migrationBuilder.CreateIndex(
                name: "ix_dunning_case_facts_pending_case_id",
                table: "dunning_case_facts_pending",
                column: "case_id");

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

            // Every case inserted, updated or deleted is queued for the fold in the transaction that changes it, by one
            // statement per statement (the retry runner's set-based updates included).
            migrationBuilder.Sql("""
                create function dunning_case_facts_changed() returns trigger language plpgsql as $$
                begin
                  insert into dunning_case_facts_pending (case_id) select id from changed_cases;
                  return null;
                end $$;

                create trigger dunning_cases_facts_inserted after insert on dunning_cases
                  referencing new table as changed_cases for each statement execute function dunning_case_facts_changed();
                create trigger dunning_cases_facts_updated after update on dunning_cases
                  referencing new table as changed_cases for each statement execute function dunning_case_facts_changed();
                create trigger dunning_cases_facts_deleted after delete on dunning_cases
                  referencing old table as changed_cases for each statement execute function dunning_case_facts_changed();

                insert into dunning_case_facts_pending (case_id) select id from dunning_cases;
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
                drop trigger dunning_cases_facts_inserted on dunning_cases;
                drop trigger dunning_cases_facts_updated on dunning_cases;
                drop trigger dunning_cases_facts_deleted on dunning_cases;
                drop function dunning_case_facts_changed();
                """);

            migrationBuilder.DropTable(
                name: "dunning_case_facts");

            migrationBuilder.DropTable(
                name: "dunning_case_facts_pending");

            migrationBuilder.DropTable(
                name: "revenue_recognition_pending");

            migrationBuilder.DropTable(
                name: "revenue_recognition_sums");
        }
    }
}
