using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Jobs;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// MRR as the engine keeps it (docs/analytics.md), on databases the demo generator never touched: subscriptions live
/// through the engine's commands over two months, the recording job runs between the steps, and every recorded day's MRR
/// is recomputed here from the subscription rows; each month's movements add up to its change of MRR; the first recording
/// derives the past from the subscriptions' dates; a second recording writes nothing; the dashboard's chart shows it.
/// </summary>
public sealed class MrrRecordingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("support@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("mrr");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Mrr_and_its_movements_follow_the_subscriptions_and_the_dashboard_chart_shows_them()
    {
        var (_, basic) = await _data.PlanAsync(30m);
        var (_, pro) = await _data.PlanAsync(90m);
        var (_, yearly) = await _data.PlanAsync(1000m, interval: BillingInterval.Year);
        var (_, euro) = await _data.PlanAsync(40m, "EUR");
        var recorded = new Dictionary<DateOnly, Dictionary<string, decimal>>();

        // 15 March: five subscriptions start, one of them on a trial.
        var a = await CreateAsync(basic, quantity: 2);
        var b = await CreateAsync(yearly);
        var c = await CreateAsync(euro);
        var d = await CreateAsync(basic, trialDays: 14);
        var e = await CreateAsync(pro);
        var f = await CreateAsync(pro);
        recorded[await RecordAndCheckAsync()] = await ExpectedMrrAsync();

        // 10 April: an upgrade, a cancellation, a pause, a payment failure (past due still counts).
        _engine.Clock.Advance(TimeSpan.FromDays(26));
        await Commands(s => s.ChangePlanAsync(a, new ChangePlan(pro.Id, 1, "immediate", null), Agent, "Upgrade", Ct));
        await Commands(s => s.CancelAsync(e, new CancelSubscription(CancelWhen.Now), Agent, "Leaving", Ct));
        await Commands(s => s.PauseAsync(b, Agent, "Holiday", Ct));
        await ChangeAsync(f, s => s.MarkPastDue());
        recorded[await RecordAndCheckAsync()] = await ExpectedMrrAsync();

        // 20 April: the billing run converts the trial, the pause ends, a downgrade.
        _engine.Clock.Advance(TimeSpan.FromDays(10));
        await _engine.RunBillingAsync();
        await Commands(s => s.ResumeAsync(b, Agent, "Back", Ct));
        await Commands(s => s.ChangePlanAsync(a, new ChangePlan(basic.Id, 1, "immediate", null), Agent, "Downgrade", Ct));
        recorded[await RecordAndCheckAsync()] = await ExpectedMrrAsync();

        // 2 May: dunning cancels the past-due subscription.
        _engine.Clock.Advance(TimeSpan.FromDays(12));
        await ChangeAsync(f, s => s.Cancel(_engine.Clock.GetUtcNow(), CancellationKind.Involuntary));
        recorded[await RecordAndCheckAsync()] = await ExpectedMrrAsync();

        var movements = (await QueryAsync<(Guid SubscriptionId, string Kind, decimal Amount)>(
            "select subscription_id, kind, amount from mrr_movements order by at, subscription_id")).ToList();
        var yearlyMrr = Math.Round(1000m / 12m, 4, MidpointRounding.AwayFromZero);
        Assert.Equal(
            [
                (a, "new", 60m), (a, "expansion", 30m), (a, "contraction", -60m),
                (b, "new", yearlyMrr), (b, "churn_voluntary", -yearlyMrr), (b, "reactivation", yearlyMrr),
                (c, "new", 40m),
                (d, "new", 30m),
                (e, "new", 90m), (e, "churn_voluntary", -90m),
                (f, "new", 90m), (f, "churn_involuntary", -90m),
            ],
            movements.OrderBy(m => Array.IndexOf([a, b, c, d, e, f], m.SubscriptionId)).ToList());

        // Each month's movements are its change of MRR: from the last recorded day of the month before to its own last.
        var days = recorded.Keys.Order().ToList();
        var monthEnds = days.GroupBy(day => (day.Year, day.Month)).Select(month => month.Max()).ToList();
        for (var i = 1; i < monthEnds.Count; i++)
        {
            var monthStart = new DateOnly(monthEnds[i].Year, monthEnds[i].Month, 1);
            var moved = await SumsAsync("select currency, sum(amount) from mrr_movements where day >= @from::date and day <= @to::date group by currency",
                new { from = monthStart.ToDateTime(TimeOnly.MinValue), to = monthEnds[i].ToDateTime(TimeOnly.MinValue) });
            var (before, after) = (recorded[monthEnds[i - 1]], recorded[monthEnds[i]]);
            foreach (var currency in after.Keys.Union(before.Keys))
                Assert.Equal(after.GetValueOrDefault(currency) - before.GetValueOrDefault(currency), moved.GetValueOrDefault(currency));
        }

        // The dashboard's chart: one point per month and currency, the month's last recorded MRR.
        var figures = await _engine.InScopeAsync<DashboardRefresher, DashboardFigures>(refresher => refresher.RefreshAsync(Ct));
        var expectedTrend = monthEnds.SelectMany(day => recorded[day].Select(pair => (Month: new DateOnly(day.Year, day.Month, 1), Currency: pair.Key, Mrr: pair.Value)));
        Assert.Equal(expectedTrend.OrderBy(p => p.Month).ThenBy(p => p.Currency, StringComparer.Ordinal).ToList(),
            figures.MrrTrend.Select(p => (p.Month, p.Currency, p.Mrr)).ToList());
        Assert.Equal(recorded[days[^1]].OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, Math.Round(p.Value, 2))).ToList(),
            figures.MrrByCurrency.Select(m => (m.Currency, m.Amount)).ToList());
    }

    [Fact]
    public async Task The_first_recording_derives_each_past_day_from_the_subscriptions_dates_and_a_second_writes_nothing()
    {
        var (_, basic) = await _data.PlanAsync(30m);
        var (_, pro) = await _data.PlanAsync(90m, "GBP");
        var customer = await _data.CustomerAsync();
        var british = await _data.CustomerAsync(currency: "GBP");
        var jan10 = Utc(2027, 1, 10);
        // Canceled on 20 February; converted from a trial on 15 February; paused on 1 March; started 5 March, still running.
        await SaveAsync(Started(customer, basic, 1, jan10), s => s.Cancel(Utc(2027, 2, 20, 9), CancellationKind.Voluntary));
        await SaveAsync(Started(customer, basic, 2, Utc(2027, 2, 1), trialEnd: Utc(2027, 2, 15)), s => s.EndTrial());
        await SaveAsync(Started(british, pro, 1, Utc(2027, 1, 20)), s => s.Pause(Utc(2027, 3, 1, 12)));
        await SaveAsync(Started(customer, basic, 3, Utc(2027, 3, 5)), _ => { });

        var written = await RecordAsync();

        Assert.Equal(6, written);
        var snapshots = (await QueryAsync<(DateTime Day, string Currency, decimal Mrr, int Subscriptions)>(
            "select day, currency, sum(mrr), sum(subscriptions)::int from mrr_snapshots group by day, currency order by day, currency")).ToList();
        var today = DateOnly.FromDateTime(_engine.Clock.GetUtcNow().UtcDateTime);
        var dayCount = today.DayNumber - DateOnly.FromDateTime(jan10.UtcDateTime).DayNumber + 1;
        Assert.Equal(dayCount, snapshots.Count(s => s.Currency == "USD"));
        foreach (var day in Enumerable.Range(0, dayCount).Select(i => DateOnly.FromDateTime(jan10.UtcDateTime).AddDays(i)))
        {
            var expected = ExpectedOn(day);
            foreach (var currency in new[] { "USD", "GBP" })
            {
                var row = snapshots.SingleOrDefault(s => DateOnly.FromDateTime(s.Day) == day && s.Currency == currency);
                Assert.True(expected.GetValueOrDefault(currency) == row.Mrr, $"{currency} MRR on {day}: expected {expected.GetValueOrDefault(currency)}, recorded {row.Mrr}");
            }
            // A day's movements are the change from the day before.
            var moved = await SumsAsync("select currency, sum(amount) from mrr_movements where day = @day::date group by currency",
                new { day = day.ToDateTime(TimeOnly.MinValue) });
            var before = ExpectedOn(day.AddDays(-1));
            foreach (var currency in new[] { "USD", "GBP" })
                Assert.Equal(expected.GetValueOrDefault(currency) - before.GetValueOrDefault(currency), moved.GetValueOrDefault(currency));
        }

        var state = await DigestAsync();
        Assert.Equal(0, await RecordAsync());
        _engine.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RecordAsync());
        Assert.Equal(state, await DigestAsync());

        static Dictionary<string, decimal> ExpectedOn(DateOnly day)
        {
            bool Counts(DateOnly from, DateOnly? until) => day >= from && (until is null || day < until);
            var usd = (Counts(new(2027, 1, 10), new(2027, 2, 20)) ? 30m : 0m) + (Counts(new(2027, 2, 15), null) ? 60m : 0m)
                      + (Counts(new(2027, 3, 5), null) ? 90m : 0m);
            var gbp = Counts(new(2027, 1, 20), new(2027, 3, 1)) ? 90m : 0m;
            return new[] { ("USD", usd), ("GBP", gbp) }.Where(p => p.Item2 != 0).ToDictionary(p => p.Item1, p => p.Item2);
        }
    }

    private async Task<Guid> CreateAsync(Price price, int quantity = 1, int? trialDays = null)
    {
        var customer = await _data.CustomerAsync(currency: price.Currency);
        var view = await _engine.InScopeAsync<SubscriptionCommands, SubscriptionChangeView>(s =>
            s.CreateAsync(new CreateSubscription(customer.Id, price.Id, quantity, trialDays), Agent, "Signed up", Ct));
        return view.Subscription.Id;
    }

    private Task Commands<T>(Func<SubscriptionCommands, Task<T>> command) => _engine.InScopeAsync(command);

    /// <summary>A change the dunning engine makes, through the domain's own transition.</summary>
    private async Task ChangeAsync(Guid subscriptionId, Action<Subscription> change)
    {
        await using var db = _database.NewContext();
        change(await db.Subscriptions.SingleAsync(s => s.Id == subscriptionId, Ct));
        await db.SaveChangesAsync(Ct);
    }

    private static Subscription Started(Customer customer, Price price, int quantity, DateTimeOffset at, DateTimeOffset? trialEnd = null) =>
        new(customer.Id, price.Id, quantity, at, trialEnd ?? at.AddMonths(1), trialEnd);

    private async Task SaveAsync(Subscription subscription, Action<Subscription> then)
    {
        then(subscription);
        await using var db = _database.NewContext();
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync(Ct);
    }

    private Task<int> RecordAsync() => new MrrRecordingJob(_engine.Get<MrrRecorder>(), _engine.Clock).RunAsync(Ct);

    /// <summary>Runs the recording job and checks today's snapshot against the MRR recomputed from the subscriptions.</summary>
    private async Task<DateOnly> RecordAndCheckAsync()
    {
        await RecordAsync();
        var today = DateOnly.FromDateTime(_engine.Clock.GetUtcNow().UtcDateTime);
        var snapshot = await SumsAsync("select currency, sum(mrr) from mrr_snapshots where day = @day::date group by currency",
            new { day = today.ToDateTime(TimeOnly.MinValue) });
        Assert.Equal(await ExpectedMrrAsync(), snapshot);
        return today;
    }

    /// <summary>MRR per docs/analytics.md from the rows: active and past-due subscriptions, a month's worth of their price times quantity.</summary>
    private async Task<Dictionary<string, decimal>> ExpectedMrrAsync()
    {
        await using var db = _database.NewContext();
        var prices = await db.Prices.AsNoTracking().ToDictionaryAsync(p => p.Id, Ct);
        var counting = await db.Subscriptions.AsNoTracking()
            .Where(s => s.Status == SubscriptionStatus.Active || s.Status == SubscriptionStatus.PastDue).ToListAsync(Ct);
        return counting.GroupBy(s => prices[s.PriceId].Currency)
            .ToDictionary(g => g.Key, g => g.Sum(s => Math.Round(prices[s.PriceId].MonthlyAmount.Amount * s.Quantity, 4, MidpointRounding.AwayFromZero)));
    }

    private async Task<Dictionary<string, decimal>> SumsAsync(string sql, object args)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return (await connection.QueryAsync<(string Currency, decimal Amount)>(sql, args)).ToDictionary(r => r.Currency, r => r.Amount);
    }

    private async Task<IEnumerable<T>> QueryAsync<T>(string sql)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QueryAsync<T>(sql);
    }

    private async Task<string> DigestAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<string>("""
            select concat_ws('/',
                (select string_agg(concat_ws('|', id, day, subscription_id, kind, amount), ',' order by id) from mrr_movements),
                (select string_agg(concat_ws('|', day, currency, plan_id, mrr, subscriptions), ',' order by day, currency, plan_id) from mrr_snapshots),
                (select string_agg(concat_ws('|', subscription_id, plan_id, mrr, contributed), ',' order by subscription_id) from mrr_subscription_states))
            """);
    }

    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);
}
