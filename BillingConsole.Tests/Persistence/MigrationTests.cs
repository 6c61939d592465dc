using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Persistence;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_and_create_every_table()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("migrations");
        await using var db = database.NewContext();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        await using var connection = await database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        var tables = (await connection.QueryAsync<string>("select table_name from information_schema.tables where table_schema = 'public'")).ToHashSet();
        string[] expected =
        [
            "customers", "payment_methods", "plans", "prices", "subscriptions", "invoices", "invoice_lines", "payment_attempts",
            "ledger_entries", "dunning_cases", "dunning_policies", "idempotency_keys", "audit_log", "settings", "billing_runs",
            "webhook_events", "webhook_rejections", "customer_notes", "api_keys", "mrr_snapshots", "dashboard_snapshots",
        ];
        Assert.Empty(expected.Except(tables));
    }

    [Fact]
    public async Task The_schema_refuses_a_second_cycle_invoice_for_one_period()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("uniqueness");
        await using var connection = await database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        var index = await connection.QuerySingleOrDefaultAsync<string>(
            "select indexdef from pg_indexes where indexname = 'ux_invoices_subscription_period'");

        Assert.NotNull(index);
        Assert.Contains("UNIQUE", index);
        Assert.Contains("subscription_cycle", index);
    }
}
