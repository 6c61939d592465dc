using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// The Analytics page's cohort table against the demo history the engine recorded: recomputed here from the raw MRR
/// movement rows (each customer's first month, their running MRR at each month's end), cell by cell.
/// </summary>
public sealed class CohortTableTests(ConsoleAppHost host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_cohorts_customers_retained_and_mrr_by_month_since_sign_up_agree_with_the_raw_movements()
    {
        var today = DateOnly.FromDateTime(host.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        // The last whole month: movements recorded today never reach into it.
        var lastMonth = new DateOnly(today.Year, today.Month, 1).AddMonths(-1);
        var table = await host.Services.GetRequiredService<CohortQueries>().TableAsync("USD", lastMonth, 12, Ct);

        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var movements = (await connection.QueryAsync<(Guid Customer, DateTime Day, decimal Amount)>(
            "select customer_id, day, amount from mrr_movements where currency = 'USD'")).ToList();
        static DateOnly MonthOf(DateTime day) => new(day.Year, day.Month, 1);
        var signUps = movements.GroupBy(m => m.Customer).ToDictionary(g => g.Key, g => g.Min(m => MonthOf(m.Day)));
        decimal MrrAtEndOf(Guid customer, DateOnly month) => movements.Where(m => m.Customer == customer && MonthOf(m.Day) <= month).Sum(m => m.Amount);

        var expectedCohorts = signUps.Values.Where(m => m >= lastMonth.AddMonths(-11) && m <= lastMonth).Distinct().Order().ToList();
        Assert.Equal(expectedCohorts, table.Select(c => c.SignUpMonth));
        Assert.True(table.Count >= 6, "the demo history signs customers up every month");
        foreach (var cohort in table)
        {
            var customers = signUps.Where(s => s.Value == cohort.SignUpMonth).Select(s => s.Key).ToList();
            Assert.Equal(customers.Count, cohort.Customers);
            Assert.Equal(customers.Sum(c => MrrAtEndOf(c, cohort.SignUpMonth)), cohort.StartingMrr);
            Assert.Equal(Enumerable.Range(0, cohort.Months.Count), cohort.Months.Select(m => m.Index));
            Assert.Equal(lastMonth, cohort.Months[^1].Month);
            foreach (var month in cohort.Months)
            {
                var atEnd = customers.Select(c => MrrAtEndOf(c, month.Month)).ToList();
                Assert.Equal((atEnd.Count(m => m > 0), atEnd.Sum()), (month.Retained, month.Mrr));
                Assert.Equal((decimal)month.Retained / customers.Count, cohort.LogoRetention(month));
            }
        }
        // Customers leave: some older cohort has lost some of its customers by now.
        Assert.Contains(table, cohort => cohort.Months[^1].Retained < cohort.Customers);
    }

    [Theory]
    [InlineData(null, 12)]
    [InlineData("6", 6)]
    [InlineData("24", 24)]
    [InlineData("7", null)]
    [InlineData("twelve", null)]
    public void The_cohort_count_in_the_url_is_one_the_page_offers_or_nothing(string? text, int? expected) =>
        Assert.Equal(expected, CohortQueries.ParseCount(text));
}
