using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Gateways;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Commands;

/// <summary>
/// The benchmarks' populations: customers with a sandbox card and one monthly subscription each, every period ended in the
/// last two days, written with binary COPY; for the dunning benchmark, each with an open invoice whose first charge failed
/// and its dunning case due for a retry. The demo data generator (DemoDataGenerator.GenerateAsync with --scale) is meant
/// to take this class's place once it produces due subscriptions at scale.
/// </summary>
public static class BenchmarkPopulation
{
    /// <summary>A billing run's cards: one in ten is declined, the rest succeed, so both outcomes are written.</summary>
    public static string BillingRunCard(int i) => (i % 10 == 9 ? "pm_insufficient_funds_" : "pm_ok_") + SandboxGateway.NewTokenTail();

    /// <summary>
    /// The cards of invoices in dunning, as a retry finds them: 7 in 20 succeed, the rest decline, mostly soft (insufficient
    /// funds, do not honor, try again later, so the case is scheduled again) and one in 20 hard (stolen: it waits for a new card).
    /// </summary>
    public static string DunningRetryCard(int i) => (i % 20) switch
    {
        < 7 => "pm_ok_",
        < 15 => "pm_insufficient_funds_",
        < 18 => "pm_do_not_honor_",
        < 19 => "pm_try_again_later_",
        _ => "pm_stolen_card_",
    } + SandboxGateway.NewTokenTail();

    /// <param name="cardFor">The sandbox card token of the i-th customer, which decides how its charges end.</param>
    public static async Task CreateDueSubscriptionsAsync(NpgsqlDataSource dataSource, int count, DateTimeOffset now, Func<int, string> cardFor,
        CancellationToken ct)
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
                await copy.WriteAsync(cardFor(i), NpgsqlDbType.Text, ct);
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

    /// <summary>
    /// Turns the due subscriptions into a dunning backlog: each period's invoice issued when it ended, its first charge
    /// declined (insufficient funds) at once, its dunning case opened then and due for its first retry; the subscription is
    /// past due and in its next period. Set-based, a few statements in one transaction.
    /// </summary>
    public static async Task CreateDueDunningCasesAsync(NpgsqlDataSource dataSource, int policyVersion, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // A million rows take longer than a command's default timeout.
        await using (var backlog = new NpgsqlBatch(connection, transaction)
        {
            Timeout = 0,
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    insert into invoices (id, number, customer_id, subscription_id, kind, status, currency, period_start, period_end, created_at,
                                          issued_at, due_at, attempt_count, amount_paid, amount_written_off, credit_applied, subtotal, tax, total)
                    select gen_random_uuid(), 'BENCH-' || lpad((row_number() over (order by s.id))::text, 9, '0'), s.customer_id, s.id,
                           'subscription_cycle', 'open', 'USD', s.current_period_start, s.current_period_end, s.current_period_end,
                           s.current_period_end, s.current_period_end, 1, 0, 0, 0, 29, 0, 29
                    from subscriptions s
                    """),
                new NpgsqlBatchCommand("""
                    insert into payment_attempts (id, invoice_id, customer_id, payment_method_id, attempt_number, idempotency_key, currency, gateway,
                                                  trigger, status, decline_code, failure_message, started_at, completed_at, latency_ms, amount)
                    select gen_random_uuid(), i.id, i.customer_id, m.id, 1, 'inv_' || replace(i.id::text, '-', '') || '_att_1', 'USD', 'sandbox',
                           'billing_run', 'failed', 'insufficient_funds', 'Your card has insufficient funds.', i.issued_at, i.issued_at, 0, 29
                    from invoices i join payment_methods m on m.customer_id = i.customer_id and m.is_default
                    """),
                new NpgsqlBatchCommand("""
                    insert into dunning_cases (id, invoice_id, customer_id, subscription_id, currency, status, policy_version, opened_at, updated_at,
                                               retries_made, last_decline_code, next_attempt_at, next_attempt_probability, next_attempt_reason,
                                               escalation_step, amount)
                    select gen_random_uuid(), i.id, i.customer_id, i.subscription_id, 'USD', 'retry_pending', $1, i.issued_at, i.issued_at,
                           0, 'insufficient_funds', i.issued_at, 0.3, 'Benchmark: due since the case opened.', 0, 29
                    from invoices i
                    """) { Parameters = { new() { Value = policyVersion } } },
                new NpgsqlBatchCommand("""
                    update subscriptions set status = 'past_due', current_period_start = current_period_end,
                                             current_period_end = current_period_end + interval '1 month'
                    """),
            },
        })
        {
            await backlog.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        await using var analyze = new NpgsqlCommand("analyze invoices; analyze payment_attempts; analyze dunning_cases; analyze subscriptions", connection)
            { CommandTimeout = 0 };
        await analyze.ExecuteNonQueryAsync(ct);
    }
}
