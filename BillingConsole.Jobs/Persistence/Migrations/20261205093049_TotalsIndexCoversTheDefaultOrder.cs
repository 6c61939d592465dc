using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TotalsIndexCoversTheDefaultOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_invoices_total_id",
                table: "invoices");

            migrationBuilder.CreateIndex(
                name: "ix_invoices_total_id",
                table: "invoices",
                columns: new[] { "total", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "created_at", "customer_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_invoices_total_id",
                table: "invoices");

            migrationBuilder.CreateIndex(
                name: "ix_invoices_total_id",
                table: "invoices",
                columns: new[] { "total", "id" });
        }
    }
}
