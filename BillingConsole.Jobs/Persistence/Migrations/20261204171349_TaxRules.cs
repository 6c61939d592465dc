using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TaxRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "reverse_charge",
                table: "invoice_lines",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<decimal>(
                name: "tax_amount",
                table: "invoice_lines",
                type: "numeric(19,4)",
                precision: 19,
                scale: 4,
                nullable: false,
                defaultValue: 0m);

            migrationBuilder.AddColumn<string>(
                name: "tax_country",
                table: "invoice_lines",
                type: "character varying(2)",
                maxLength: 2,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<decimal>(
                name: "tax_rate",
                table: "invoice_lines",
                type: "numeric(7,6)",
                precision: 7,
                scale: 6,
                nullable: false,
                defaultValue: 0m);

            migrationBuilder.AddColumn<string>(
                name: "tax_region",
                table: "invoice_lines",
                type: "character varying(10)",
                maxLength: 10,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "address_region",
                table: "customers",
                type: "character varying(10)",
                maxLength: 10,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "tax_tables",
                columns: table => new
                {
                    version = table.Column<int>(type: "integer", nullable: false),
                    table = table.Column<string>(type: "jsonb", nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tax_tables", x => x.version);
                });

            // Invoices issued before tax was kept per line had one rate: each line gets it and the customer's country, and the
            // largest line carries the invoice's tax, so the tax report over past periods still adds up to the ledger's tax payable.
            migrationBuilder.Sql("""
                update invoice_lines l set tax_rate = case when i.tax <> 0 and i.subtotal > 0 then round(i.tax / i.subtotal, 6) else 0 end,
                       tax_country = c.address_country
                from invoices i join customers c on c.id = i.customer_id
                where i.id = l.invoice_id;
                update invoice_lines l set tax_amount = i.tax
                from invoices i
                where i.id = l.invoice_id and i.tax <> 0
                  and l.id = (select x.id from invoice_lines x where x.invoice_id = i.id order by abs(x.amount) desc, x.id limit 1);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "tax_tables");

            migrationBuilder.DropColumn(
                name: "reverse_charge",
                table: "invoice_lines");

            migrationBuilder.DropColumn(
                name: "tax_amount",
                table: "invoice_lines");

            migrationBuilder.DropColumn(
                name: "tax_country",
                table: "invoice_lines");

            migrationBuilder.DropColumn(
                name: "tax_rate",
                table: "invoice_lines");

            migrationBuilder.DropColumn(
                name: "tax_region",
                table: "invoice_lines");

            migrationBuilder.DropColumn(
                name: "address_region",
                table: "customers");
        }
    }
}
