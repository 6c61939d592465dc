using BillingConsole.Persistence;
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

    [Fact]
    public async Task Anchor_days_that_disagree_with_the_period_end_are_repaired_in_the_billing_time_zone()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"t_anchor_repair_{Guid.NewGuid():N}";
        await TestDatabases.RecreateAsync(name);
        await using var database = new MigratedDatabase(name, TestServers.ConnectionStringFor(name));
        await using (var db = database.NewContext())
        {
            await db.EnsureMigrationHistoryAsync(ct);
            await db.Database.MigrateAsync("DunningQueueIndex", ct);
        }

        // New York in winter is UTC−5: 05:00 UTC on 5 Dec is the 5th there, 03:00 UTC is still the 4th.
        var endsOnThe5th = DateTimeOffset.Parse("2026-12-05T05:00:00Z");
        var endsOnThe4th = DateTimeOffset.Parse("2026-12-05T03:00:00Z");
        var endsOnThe28thOfFebruary = DateTimeOffset.Parse("2027-03-01T04:00:00Z");
        (Guid Id, DateTimeOffset PeriodEnd, int AnchorDay, int Expected)[] rows =
        [
            (Guid.NewGuid(), endsOnThe5th, 22, 5),
            (Guid.NewGuid(), endsOnThe4th, 4, 4),
            (Guid.NewGuid(), endsOnThe4th, 5, 4),
            (Guid.NewGuid(), endsOnThe28thOfFebruary, 31, 31),
            (Guid.NewGuid(), endsOnThe28thOfFebruary, 1, 28),
        ];
        await using (var connection = await database.DataSource.OpenConnectionAsync(ct))
        {
            var (customerId, planId, priceId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
            await connection.ExecuteAsync("""
                insert into customers (id, name, email, currency, created_at, dunning_paused, credit_balance, address_line1, address_city, address_postal_code, address_country)
                values (@customerId, 'Anchor Ltd', 'billing@anchor.example', 'USD', now(), false, 0, '1 Main St', 'Boston', '02108', 'US');
                insert into plans (id, code, name, description, active) values (@planId, 'pro', 'Pro', 'Pro plan', true);
                insert into prices (id, plan_id, currency, interval, trial_days, active, amount) values (@priceId, @planId, 'USD', 'month', 0, true, 1998);
                """, new { customerId, planId, priceId });
            foreach (var row in rows)
                await connection.ExecuteAsync("""
                    insert into subscriptions (id, customer_id, price_id, quantity, billing_anchor_day, status, created_at, current_period_start,
                                               current_period_end, cancel_at_period_end, plan_changes_blocked)
                    values (@Id, @customerId, @priceId, 1, @AnchorDay, 'active', @PeriodStart, @PeriodStart, @PeriodEnd, false, false)
                    """, new { row.Id, customerId, priceId, row.AnchorDay, PeriodStart = row.PeriodEnd.AddDays(-30), row.PeriodEnd });
        }

        await using (var db = database.NewContext())
            await db.MigrateWithBillingTimeZoneAsync(TimeZoneInfo.FindSystemTimeZoneById("America/New_York"), ct);

        await using var read = await database.DataSource.OpenConnectionAsync(ct);
        var anchors = (await read.QueryAsync<(Guid Id, int Day)>("select id, billing_anchor_day from subscriptions")).ToDictionary(r => r.Id, r => r.Day);
        Assert.Equal(rows.Select(r => (r.Id, r.Expected)), rows.Select(r => (r.Id, anchors[r.Id])));
    }
}
