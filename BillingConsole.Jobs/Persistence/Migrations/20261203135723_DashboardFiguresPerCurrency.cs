using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DashboardFiguresPerCurrency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The stored figures had amounts in one currency; the page reads them per currency. Until the refresh job
            // writes the new figures (within a minute) the dashboard says it has none rather than misreading the old ones.
            migrationBuilder.Sql("delete from dashboard_snapshots");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("delete from dashboard_snapshots");
        }
    }
}
