using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>The scheduler in the running engine learns from this installation's payment-attempt history, not only the priors.</summary>
public sealed class RecoveryHistoryTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("recovery_history");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>
    /// 60 days of insufficient_funds cases, eight a day, each retried once a day after it opened: the one retried at 03:00
    /// always paid; those retried at 04:00–08:00, 12:00 and 15:00 never did. Same retry number and age, every weekday and
    /// day of month: only the hour tells them apart. The customer is in the billing time zone.
    /// </summary>
    internal static async Task WriteHistoryAsync(MigratedDatabase database, BillingTestData data, CancellationToken ct)
    {
        var customerId = (await data.CustomerAsync()).Id;
        var history = new DunningHistoryData(database, customerId);
        var start = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var day = 0; day < 60; day++)
        {
            var date = start.AddDays(day);
            foreach (var hour in RetryHours)
                history.Case(20m, "USD", DeclineCodes.InsufficientFunds, date.AddHours(hour), [(date.AddDays(1).AddHours(hour), hour == 3)]);
        }
        await history.SaveAsync(ct);
    }

    private static readonly int[] RetryHours = [3, 4, 5, 6, 7, 8, 12, 15];
    private const int HistoryRetries = 60 * 8;

    /// <summary>Statistical retries with a budget of 3: few enough that where they go matters.</summary>
    private static readonly DunningPolicySettings Policy = DunningPolicySettings.Default with { Mode = RetryMode.Statistical, AttemptBudget = 3 };

    private async Task UsePolicyAsync()
    {
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, Policy, "test", "Three statistical retries", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    /// <summary>A new customer's invoice declined for insufficient funds by the billing run: the case it opens, as scheduled.</summary>
    private async Task<DunningCase> NewCaseAsync()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.BillingRun, Actor.System, Ct));
        await using var db = _database.NewContext();
        return await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct);
    }

    [Fact]
    public async Task History_moves_the_scheduled_retry_time_and_its_stored_probability_away_from_the_priors()
    {
        await UsePolicyAsync();
        var now = _engine.Clock.GetUtcNow();
        var context = new RetryContext(DeclineCodes.InsufficientFunds, DeclineCodes.InsufficientFunds, now, [], new Money(20m, "USD"), TimeZoneInfo.Utc, now);
        var fromPriors = Assert.IsType<RetryDecision.Retry>(new RetryScheduler().Next(context, Policy, RecoveryStatistics.Priors));

        var beforeHistory = await NewCaseAsync();
        await WriteHistoryAsync(_database, _data, Ct);
        var learned = await _engine.Get<RecoveryHistory>().RefreshAsync(Ct);
        var fromHistory = Assert.IsType<RetryDecision.Retry>(new RetryScheduler().Next(context, Policy, learned));
        var afterHistory = await NewCaseAsync();

        // A new install schedules exactly as the priors say.
        Assert.Equal(fromPriors.At, beforeHistory.NextAttemptAt);
        Assert.Equal(fromPriors.EstimatedProbability, beforeHistory.NextAttemptProbability!.Value, 9);
        // With the history the engine schedules as the learned model says: the 03:00 slot that always paid.
        Assert.Equal(HistoryRetries, learned.ObservedAttempts);
        Assert.Equal(fromHistory.At, afterHistory.NextAttemptAt);
        Assert.Equal(fromHistory.EstimatedProbability, afterHistory.NextAttemptProbability!.Value, 9);
        Assert.Equal(3, afterHistory.NextAttemptAt!.Value.UtcDateTime.Hour);
        Assert.NotEqual(fromPriors.At, afterHistory.NextAttemptAt);
        Assert.NotEqual(fromPriors.EstimatedProbability, afterHistory.NextAttemptProbability!.Value, 3);
        Assert.Contains("03:00", afterHistory.NextAttemptReason);
    }

    [Fact]
    public async Task The_model_is_loaded_again_once_it_is_older_than_the_refresh_interval()
    {
        var history = _engine.Get<RecoveryHistory>();
        var first = await history.CurrentAsync(Ct);
        await WriteHistoryAsync(_database, _data, Ct);

        Assert.Equal(0, first.ObservedAttempts);
        Assert.Same(first, await history.CurrentAsync(Ct));
        _engine.Clock.Advance(RecoveryHistory.RefreshInterval + TimeSpan.FromMinutes(1));
        Assert.Equal(HistoryRetries, (await history.CurrentAsync(Ct)).ObservedAttempts);
    }

    /// <summary>One estimator: the retry job's model (SQL aggregates) and the simulator's (raw retries) agree when fitted from the same retries.</summary>
    [Fact]
    public async Task The_retry_jobs_model_is_the_simulators_estimator_fitted_from_the_same_retries()
    {
        await WriteHistoryAsync(_database, _data, Ct);
        var production = await _engine.Get<RecoveryHistory>().RefreshAsync(Ct);

        var zone = _engine.Get<BillingCalendar>().TimeZone;
        var start = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var retries = Enumerable.Range(0, 60).SelectMany(day => RetryHours.Select(hour => new AttemptObservation(DeclineCodes.InsufficientFunds, 1,
            start.AddDays(day).AddHours(hour), start.AddDays(day + 1).AddHours(hour), hour == 3, zone)));
        var simulated = RecoveryStatistics.FromObservations(retries);

        Assert.Equal(HistoryRetries, production.ObservedAttempts);
        Assert.Equal(production.ObservedAttempts, simulated.ObservedAttempts);
        var queries = Enumerable.Range(0, 24 * 9).Select(h => new RecoveryQuery(DeclineCodes.InsufficientFunds, 1 + h % 3, h % 12, new DateTime(2027, 3, 1).AddHours(7 * h)));
        Assert.All(queries, q =>
        {
            Assert.Equal(simulated.Probability(q), production.Probability(q), 9);
            Assert.Equal(simulated.Mean.Probability(q), production.Mean.Probability(q), 9);
        });
        // Midnight was never tried: the model the scheduler plans with explores it.
        var midnight = new RecoveryQuery(DeclineCodes.InsufficientFunds, 1, 1, new DateTime(2027, 3, 2, 0, 0, 0));
        Assert.True(production.Probability(midnight) > production.Mean.Probability(midnight));
    }

    [Fact]
    public async Task The_history_is_counted_by_decline_retry_number_age_and_time()
    {
        await WriteHistoryAsync(_database, _data, Ct);

        var aggregates = await _engine.Get<RecoveryHistory>().LoadAggregatesAsync(DateTimeOffset.MinValue, Ct);

        Assert.Equal(HistoryRetries, aggregates.Sum(a => a.Attempts));
        Assert.All(aggregates, a => Assert.Equal((DeclineCodes.InsufficientFunds, 1, 1), (a.DeclineCode, a.AttemptNumber, a.DaysSinceFirstFailure)));
        Assert.Equal(60, aggregates.Where(a => a.Hour == 3).Sum(a => a.Successes));
        Assert.Equal(0, aggregates.Where(a => a.Hour != 3).Sum(a => a.Successes));
        // 2 March 2027 03:00 (the 60th day's retry) is a Tuesday; 28 February is the month's last day.
        Assert.Contains(aggregates, a => (a.DayOfMonth, a.Weekday, a.Hour) == (2, DayOfWeek.Tuesday, 3));
        Assert.Contains(aggregates, a => a is { DayOfMonth: 28, IsLastDayOfMonth: true });
    }
}
