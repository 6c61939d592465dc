using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PendingInvoiceLinesAndForeignKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_invoice_lines_prices_price_id",
                table: "invoice_lines");

            migrationBuilder.CreateTable(
                name: "pending_invoice_lines",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    subscription_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    description = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    period_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    period_end = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    price_id = table.Column<Guid>(type: "uuid", nullable: true),
                    position = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    invoice_id = table.Column<Guid>(type: "uuid", nullable: true),
                    amount = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false),
                    unit_amount = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_pending_invoice_lines", x => x.id);
                    table.ForeignKey(
                        name: "fk_pending_invoice_lines_customers_customer_id",
                        column: x => x.customer_id,
                        principalTable: "customers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_pending_invoice_lines_invoices_invoice_id",
                        column: x => x.invoice_id,
                        principalTable: "invoices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_pending_invoice_lines_prices_price_id",
                        column: x => x.price_id,
                        principalTable: "prices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_pending_invoice_lines_subscriptions_subscription_id",
                        column: x => x.subscription_id,
                        principalTable: "subscriptions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_dunning_cases_subscription_id",
                table: "dunning_cases",
                column: "subscription_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_invoice_lines_customer_id",
                table: "pending_invoice_lines",
                column: "customer_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_invoice_lines_invoice_id",
                table: "pending_invoice_lines",
                column: "invoice_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_invoice_lines_price_id",
                table: "pending_invoice_lines",
                column: "price_id");

            migrationBuilder.CreateIndex(
                name: "ix_pending_invoice_lines_waiting",
                table: "pending_invoice_lines",
                column: "subscription_id",
                filter: "invoice_id is null");

            migrationBuilder.AddForeignKey(
                name: "fk_dunning_cases_subscriptions_subscription_id",
                table: "dunning_cases",
                column: "subscription_id",
                principalTable: "subscriptions",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_invoice_lines_prices_price_id",
                table: "invoice_lines",
                column: "price_id",
                principalTable: "prices",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_ledger_entries_invoices_invoice_id",
                table: "ledger_entries",
                column: "invoice_id",
                principalTable: "invoices",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_dunning_cases_subscriptions_subscription_id",
                table: "dunning_cases");

            migrationBuilder.DropForeignKey(
                name: "fk_invoice_lines_prices_price_id",
                table: "invoice_lines");

            migrationBuilder.DropForeignKey(
                name: "fk_ledger_entries_invoices_invoice_id",
                table: "ledger_entries");

            migrationBuilder.DropTable(
                name: "pending_invoice_lines");

            migrationBuilder.DropIndex(
                name: "ix_dunning_cases_subscription_id",
                table: "dunning_cases");

            migrationBuilder.AddForeignKey(
                name: "fk_invoice_lines_prices_price_id",
                table: "invoice_lines",
                column: "price_id",
                principalTable: "prices",
                principalColumn: "id");
        }
    }
}
