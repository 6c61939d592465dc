using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AutoCollection : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "collection_method",
                table: "customers",
                type: "character varying(40)",
                maxLength: 40,
                nullable: false,
                // Every existing customer keeps being charged automatically, as before.
                defaultValue: "charge_automatically");

            migrationBuilder.AddColumn<int>(
                name: "days_until_due",
                table: "customers",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices",
                columns: new[] { "issued_at", "id" },
                filter: "status = 'open' and attempt_count = 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_invoices_awaiting_collection",
                table: "invoices");

            migrationBuilder.DropColumn(
                name: "collection_method",
                table: "customers");

            migrationBuilder.DropColumn(
                name: "days_until_due",
                table: "customers");
        }
    }
}
