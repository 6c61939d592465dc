using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ChargeClaimsKeepOffTheInvoice : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "invoice_charge_claims",
                columns: table => new
                {
                    invoice_id = table.Column<Guid>(type: "uuid", nullable: false),
                    token = table.Column<Guid>(type: "uuid", nullable: false),
                    claimed_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_invoice_charge_claims", x => x.invoice_id);
                    table.ForeignKey(
                        name: "fk_invoice_charge_claims_invoices_invoice_id",
                        column: x => x.invoice_id,
                        principalTable: "invoices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            // Claims held while the schema changes stay held.
            migrationBuilder.Sql("""
                insert into invoice_charge_claims (invoice_id, token, claimed_until)
                select id, charge_claim_token, charge_claimed_until from invoices where charge_claim_token is not null and charge_claimed_until is not null
                """);

            migrationBuilder.DropColumn(
                name: "charge_claim_token",
                table: "invoices");

            migrationBuilder.DropColumn(
                name: "charge_claimed_until",
                table: "invoices");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "charge_claim_token",
                table: "invoices",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "charge_claimed_until",
                table: "invoices",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.Sql("""
                update invoices i set charge_claim_token = c.token, charge_claimed_until = c.claimed_until
                from invoice_charge_claims c where c.invoice_id = i.id
                """);

            migrationBuilder.DropTable(
                name: "invoice_charge_claims");
        }
    }
}
