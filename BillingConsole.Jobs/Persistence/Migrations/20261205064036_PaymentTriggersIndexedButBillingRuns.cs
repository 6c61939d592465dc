using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <summary>
    /// The payments list filtered by a trigger other than billing runs (retries, new cards, manual charges) reads an index of
    /// its own instead of walking past every newer billing-run attempt; billing runs' attempts, most of them, stay out of it.
    /// </summary>
    public partial class PaymentTriggersIndexedButBillingRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_payment_attempts_trigger_started_at_id",
                table: "payment_attempts",
                columns: new[] { "trigger", "started_at", "id" },
                filter: "trigger <> 'billing_run'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_payment_attempts_trigger_started_at_id",
                table: "payment_attempts");
        }
    }
}
