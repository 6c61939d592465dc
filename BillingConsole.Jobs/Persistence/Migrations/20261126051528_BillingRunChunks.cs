using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class BillingRunChunks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "billing_run_chunks",
                columns: table => new
                {
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    subscription_ids = table.Column<Guid[]>(type: "uuid[]", nullable: false),
                    invoiced_count = table.Column<int>(type: "integer", nullable: false),
                    charged_count = table.Column<int>(type: "integer", nullable: false),
                    failed_count = table.Column<int>(type: "integer", nullable: false),
                    invoiced_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    charged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_billing_run_chunks", x => new { x.run_id, x.number });
                    table.ForeignKey(
                        name: "fk_billing_run_chunks_billing_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "billing_runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "billing_run_chunks");
        }
    }
}
