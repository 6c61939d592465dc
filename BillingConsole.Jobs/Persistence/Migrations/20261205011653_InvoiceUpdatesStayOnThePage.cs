using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InvoiceUpdatesStayOnThePage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_billing_run_id",
                table: "invoices");

            migrationBuilder.AlterTable(
                name: "invoices")
                .Annotation("Npgsql:StorageParameter:fillfactor", 75);

            migrationBuilder.CreateIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices",
                columns: new[] { "issued_at", "id" },
                filter: "status = 'open'");

            migrationBuilder.CreateIndex(
                name: "ix_invoices_billing_run_id_subscription_id",
                table: "invoices",
                columns: new[] { "billing_run_id", "subscription_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_billing_run_id_subscription_id",
                table: "invoices");

            migrationBuilder.AlterTable(
                name: "invoices")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 75);

            migrationBuilder.CreateIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices",
                columns: new[] { "issued_at", "id" },
                filter: "status = 'open' and attempt_count = 0");

            migrationBuilder.CreateIndex(
                name: "ix_invoices_billing_run_id",
                table: "invoices",
                column: "billing_run_id");
        }
    }
}
