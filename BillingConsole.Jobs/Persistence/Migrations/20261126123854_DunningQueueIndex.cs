using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DunningQueueIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_dunning_cases_opened_at_id",
                table: "dunning_cases",
                columns: new[] { "opened_at", "id" },
                filter: "status in ('retry_pending', 'retrying', 'awaiting_payment_method')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_dunning_cases_opened_at_id",
                table: "dunning_cases");
        }
    }
}
