using System.Diagnostics;
using System.Globalization;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.TestClocks;
using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-test-clock [--customers N] [--months N]: on the configured database, creates a test clock with N test customers
/// on one monthly price (cards cycling through paid, declined once then paid on retry, and always declined), advances it by
/// the months asked through the real engine, and prints the time, the steps, what the clock's customers got, and that no
/// customer outside the clock was touched. Target: 12 months with 100 customers under 30 s.
/// </summary>
public static class TestClockBenchmark
{
    public const string Name = "benchmark-test-clock";

    private static readonly string[] Cards = ["pm_ok_", "pm_insufficient_funds_then_ok_", "pm_insufficient_funds_"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--customers", 100) is not { } customers) return 2;
        if (BenchmarkReport.PositiveCount(args, "--months", 12) is not { } months) return 2;

        using var host = await BenchmarkReport.EngineHostAsync(args, withJobClient: true);
        var services = host.Services;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var actor = new Actor("benchmark", "admin");
        var outsideBefore = await OutsideRowsAsync(dataSource);

        var setup = Stopwatch.StartNew();
        Guid clockId;
        await using (var scope = services.CreateAsyncScope())
        {
            var price = (await scope.ServiceProvider.GetRequiredService<CatalogCommands>().CreatePlanAsync(
                new CreatePlan($"clock-bench-{Guid.NewGuid():N}"[..24], "Test clock benchmark", "Monthly, for the test clock benchmark",
                    [new AddPrice("USD", 20m, "month", 0)]), actor, "Test clock benchmark", CancellationToken.None)).Prices[0];
            var clocks = scope.ServiceProvider.GetRequiredService<TestClockCommands>();
            clockId = await clocks.CreateAsync($"Benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}", null, actor, CancellationToken.None);
            for (var i = 0; i < customers; i++)
                await clocks.AddCustomerAsync(clockId, new AddTestCustomer($"Clock customer {i + 1}", $"clock-{clockId:N}-{i + 1}@example.test", "USD",
                    price.Id, Cards[i % Cards.Length] + (i + 1)), actor, CancellationToken.None);
        }
        Console.WriteLine($"Population: a test clock with {customers:N0} customers subscribed in {setup.Elapsed.TotalSeconds:F1} s");

        DateTimeOffset from;
        await using (var connection = await dataSource.OpenConnectionAsync())
            from = await connection.ExecuteScalarAsync<DateTimeOffset>("select frozen_time from test_clocks where id = @clockId", new { clockId });
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var timer = Stopwatch.StartNew();
        TestClockAdvance advance;
        await using (var scope = services.CreateAsyncScope())
            advance = await scope.ServiceProvider.GetRequiredService<TestClockCommands>()
                .AdvanceAsync(clockId, from.AddMonths(months), actor, "Test clock benchmark", CancellationToken.None);
        var seconds = timer.Elapsed.TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            var outcome = await connection.QuerySingleAsync<(long Invoices, long Paid, long Attempts, long Cases, long Emails)>("""
                with on_clock as (select id from customers where test_clock_id = @clockId)
                select (select count(*) from invoices where customer_id in (select id from on_clock)),
                       (select count(*) from invoices where customer_id in (select id from on_clock) and status = 'paid'),
                       (select count(*) from payment_attempts where customer_id in (select id from on_clock)),
                       (select count(*) from dunning_cases where customer_id in (select id from on_clock)),
                       (select count(*) from notifications where customer_id in (select id from on_clock))
                """, new { clockId });
            var outsideAfter = await OutsideRowsAsync(dataSource);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                Test clock advance: {months} months with {customers:N0} customers in {seconds:F1} s ({advance.Steps} steps, {seconds / Math.Max(1, advance.Steps) * 1000:F0} ms per step); target under 30 s
                  this process used {cpu.TotalSeconds:F1} s of CPU; load average (1 min) {BenchmarkReport.LoadAverage()}
                  on the clock: {outcome.Invoices:N0} invoices ({outcome.Paid:N0} paid), {outcome.Attempts:N0} charge attempts, {outcome.Cases:N0} dunning cases, {outcome.Emails:N0} emails
                  outside the clock: {(outsideAfter == outsideBefore ? "unchanged" : $"CHANGED ({outsideBefore} before, {outsideAfter} after)")}
                """));
            return outsideAfter == outsideBefore ? 0 : 1;
        }
    }

    /// <summary>Row counts of the real customers' invoices, attempts, cases and emails.</summary>
    private static async Task<string> OutsideRowsAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<string>("""
            with real as (select id from customers where test_clock_id is null)
            select concat_ws(' / ',
                (select count(*) from invoices where customer_id in (select id from real)),
                (select count(*) from payment_attempts where customer_id in (select id from real)),
                (select count(*) from dunning_cases where customer_id in (select id from real)),
                (select count(*) from notifications where customer_id in (select id from real)))
            """) ?? "";
    }
}
