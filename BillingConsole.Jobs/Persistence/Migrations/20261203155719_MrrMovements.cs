using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class MrrMovements : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The old rows were monthly figures only the demo generator wrote. The first MRR recording derives the daily
            // snapshots and the movements from the subscriptions' history, so nothing is lost by starting empty.
            migrationBuilder.Sql("delete from mrr_snapshots");

            migrationBuilder.DropPrimaryKey(
                name: "pk_mrr_snapshots",
                table: "mrr_snapshots");

            migrationBuilder.DropColumn(
                name: "active_subscriptions",
                table: "mrr_snapshots");

            migrationBuilder.DropColumn(
                name: "churned_involuntary",
                table: "mrr_snapshots");

            migrationBuilder.DropColumn(
                name: "churned_voluntary",
                table: "mrr_snapshots");

            migrationBuilder.RenameColumn(
                name: "new_subscriptions",
                table: "mrr_snapshots",
                newName: "subscriptions");

            migrationBuilder.RenameColumn(
                name: "month",
                table: "mrr_snapshots",
                newName: "day");

            migrationBuilder.AddColumn<Guid>(
                name: "plan_id",
                table: "mrr_snapshots",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddPrimaryKey(
                name: "pk_mrr_snapshots",
                table: "mrr_snapshots",
                columns: new[] { "day", "currency", "plan_id" });

            migrationBuilder.CreateTable(
                name: "mrr_movements",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    subscription_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    plan_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    amount = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_mrr_movements", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "mrr_subscription_states",
                columns: table => new
                {
                    subscription_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    plan_id = table.Column<Guid>(type: "uuid", nullable: false),
                    mrr = table.Column<decimal>(type: "numeric(19,4)", precision: 19, scale: 4, nullable: false),
                    contributed = table.Column<bool>(type: "boolean", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_mrr_subscription_states", x => x.subscription_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_mrr_movements_day_currency",
                table: "mrr_movements",
                columns: new[] { "day", "currency" });

            migrationBuilder.CreateIndex(
                name: "ix_mrr_movements_subscription_id",
                table: "mrr_movements",
                column: "subscription_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("delete from mrr_snapshots");

            migrationBuilder.DropTable(
                name: "mrr_movements");

            migrationBuilder.DropTable(
                name: "mrr_subscription_states");

            migrationBuilder.DropPrimaryKey(
                name: "pk_mrr_snapshots",
                table: "mrr_snapshots");

            migrationBuilder.DropColumn(
                name: "plan_id",
                table: "mrr_snapshots");

            migrationBuilder.RenameColumn(
                name: "subscriptions",
                table: "mrr_snapshots",
                newName: "new_subscriptions");

            migrationBuilder.RenameColumn(
                name: "day",
                table: "mrr_snapshots",
                newName: "month");

            migrationBuilder.AddColumn<int>(
                name: "active_subscriptions",
                table: "mrr_snapshots",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "churned_involuntary",
                table: "mrr_snapshots",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "churned_voluntary",
                table: "mrr_snapshots",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddPrimaryKey(
                name: "pk_mrr_snapshots",
                table: "mrr_snapshots",
                columns: new[] { "month", "currency" });
        }
    }
}
