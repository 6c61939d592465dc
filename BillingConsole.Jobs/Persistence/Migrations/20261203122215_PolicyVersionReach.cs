using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PolicyVersionReach : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Versions saved before the choice existed applied to open cases; the default also serves the raw inserts of
            // version 1 (the default policy and the demo data), which EF does not write.
            migrationBuilder.AddColumn<bool>(
                name: "applies_to_open_cases",
                table: "dunning_policies",
                type: "boolean",
                nullable: false,
                defaultValue: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "applies_to_open_cases",
                table: "dunning_policies");
        }
    }
}
