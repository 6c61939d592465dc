using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BillingConsole.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_subscriptions_created_at_id",
                table: "subscriptions",
                columns: new[] { "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_subscriptions_current_period_end_id",
                table: "subscriptions",
                columns: new[] { "current_period_end", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_payment_attempts_amount_id",
                table: "payment_attempts",
                columns: new[] { "amount", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_payment_attempts_status_started_at_id",
                table: "payment_attempts",
                columns: new[] { "status", "started_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_amount_due_id",
                table: "invoices",
                columns: new[] { "amount_due", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_currency_created_at_id",
                table: "invoices",
                columns: new[] { "currency", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_due_at_id",
                table: "invoices",
                columns: new[] { "due_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_status_created_at_id",
                table: "invoices",
                columns: new[] { "status", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_subscription_id_created_at",
                table: "invoices",
                columns: new[] { "subscription_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_invoices_total_id",
                table: "invoices",
                columns: new[] { "total", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_customers_credit_balance_id",
                table: "customers",
                columns: new[] { "credit_balance", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_customers_currency_created_at_id",
                table: "customers",
                columns: new[] { "currency", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_customers_email_id",
                table: "customers",
                columns: new[] { "email", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_customers_name_id",
                table: "customers",
                columns: new[] { "name", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_subscriptions_created_at_id",
                table: "subscriptions");

            migrationBuilder.DropIndex(
                name: "ix_subscriptions_current_period_end_id",
                table: "subscriptions");

            migrationBuilder.DropIndex(
                name: "ix_payment_attempts_amount_id",
                table: "payment_attempts");

            migrationBuilder.DropIndex(
                name: "ix_payment_attempts_status_started_at_id",
                table: "payment_attempts");

            migrationBuilder.DropIndex(
                name: "ix_invoices_amount_due_id",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_currency_created_at_id",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_due_at_id",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_status_created_at_id",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_subscription_id_created_at",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_invoices_total_id",
                table: "invoices");

            migrationBuilder.DropIndex(
                name: "ix_customers_credit_balance_id",
                table: "customers");

            migrationBuilder.DropIndex(
                name: "ix_customers_currency_created_at_id",
                table: "customers");

            migrationBuilder.DropIndex(
                name: "ix_customers_email_id",
                table: "customers");

            migrationBuilder.DropIndex(
                name: "ix_customers_name_id",
                table: "customers");
        }
    }
}
