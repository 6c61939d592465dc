using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TestClocks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_billing_runs_one_running",
                table: "billing_runs");

            migrationBuilder.AddColumn<Guid>(
                name: "test_clock_id",
                table: "customers",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "test_clock_id",
                table: "billing_runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "test_clocks",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    frozen_time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_test_clocks", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_customers_test_clock_id",
                table: "customers",
                column: "test_clock_id",
                filter: "test_clock_id is not null");

            migrationBuilder.CreateIndex(
                name: "ux_billing_runs_one_running",
                table: "billing_runs",
                columns: new[] { "test_clock_id", "status" },
                unique: true,
                filter: "status = 'running'")
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_test_clocks_created_at",
                table: "test_clocks",
                column: "created_at");

            migrationBuilder.AddForeignKey(
                name: "fk_customers_test_clocks_test_clock_id",
                table: "customers",
                column: "test_clock_id",
                principalTable: "test_clocks",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_customers_test_clocks_test_clock_id",
                table: "customers");

            migrationBuilder.DropTable(
                name: "test_clocks");

            migrationBuilder.DropIndex(
                name: "ix_customers_test_clock_id",
                table: "customers");

            migrationBuilder.DropIndex(
                name: "ux_billing_runs_one_running",
                table: "billing_runs");

            migrationBuilder.DropColumn(
                name: "test_clock_id",
                table: "customers");

            migrationBuilder.DropColumn(
                name: "test_clock_id",
                table: "billing_runs");

            migrationBuilder.CreateIndex(
                name: "ux_billing_runs_one_running",
                table: "billing_runs",
                column: "status",
                unique: true,
                filter: "status = 'running'");
        }
    }
}
