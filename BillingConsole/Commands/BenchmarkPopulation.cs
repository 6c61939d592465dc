using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Commands;

/// <summary>
/// The benchmark's population: customers with a sandbox card and one monthly subscription each, every period ended in the
/// last two days, written with binary COPY. The demo data generator (DemoDataGenerator.GenerateAsync with --scale) is meant
/// to take this method's place once it produces due subscriptions at scale.
/// </summary>
public static class BenchmarkPopulation
{
    /// <summary>One card in ten is declined, the rest succeed, so both outcomes are written.</summary>
    private static string TokenFor(int i) => (i % 10 == 9 ? "pm_insufficient_funds_" : "pm_ok_") + i.ToString("D9");

    public static async Task CreateDueSubscriptionsAsync(NpgsqlDataSource dataSource, int count, DateTimeOffset now, CancellationToken ct)
    {
        var planId = Guid.CreateVersion7();
        var priceId = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var catalog = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("insert into plans (id, code, name, description, active) values ($1, $2, 'Benchmark', 'Benchmark plan', true)")
                    { Parameters = { new() { Value = planId }, new() { Value = $"bench-{planId:N}"[..30] } } },
                new NpgsqlBatchCommand("insert into prices (id, plan_id, currency, interval, trial_days, active, amount) values ($1, $2, 'USD', $3, 0, true, 29)")
                    { Parameters = { new() { Value = priceId }, new() { Value = planId }, new() { Value = BillingInterval.Month.ToSnakeCase() } } },
            },
        })
        {
            await catalog.ExecuteNonQueryAsync(ct);
        }

        var customers = new Guid[count];
        for (var i = 0; i < count; i++) customers[i] = Guid.CreateVersion7();
        var createdAt = now.AddYears(-1);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy customers (id, name, email, currency, created_at, dunning_paused, credit_balance, address_line1, address_city, address_postal_code, address_country) from stdin (format binary)", ct))
        {
            for (var i = 0; i < count; i++)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(customers[i], NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync($"Benchmark customer {i}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync($"customer{i}@bench.example", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("USD", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(createdAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(0m, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync("1 Ledger Lane", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("London", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("EC1A 1BB", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("GB", NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy payment_methods (id, customer_id, gateway, token, brand, last4, exp_month, exp_year, is_default, created_at) from stdin (format binary)", ct))
        {
            for (var i = 0; i < count; i++)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(customers[i], NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync("sandbox", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(TokenFor(i), NpgsqlDbType.Text, ct);
                await copy.WriteAsync("visa", NpgsqlDbType.Text, ct);
                await copy.WriteAsync("4242", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(12, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(2030, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(true, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(createdAt, NpgsqlDbType.TimestampTz, ct);
            }
            await copy.CompleteAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy subscriptions (id, customer_id, price_id, quantity, billing_anchor_day, status, created_at, current_period_start, current_period_end, cancel_at_period_end, plan_changes_blocked) from stdin (format binary)", ct))
        {
            for (var i = 0; i < count; i++)
            {
                // Whole minutes over the last two days, so periods end at many different moments.
                var end = now.AddMinutes(-1 - i % 2880);
                var start = end.AddMonths(-1);
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(customers[i], NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(priceId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(1, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(start.Day, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync("active", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(start, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(start, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(end, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean, ct);
            }
            await copy.CompleteAsync(ct);
        }

        await using var analyze = new NpgsqlCommand("analyze customers; analyze payment_methods; analyze subscriptions", connection);
        await analyze.ExecuteNonQueryAsync(ct);
    }
}
