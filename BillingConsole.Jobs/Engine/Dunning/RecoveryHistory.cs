using BillingConsole.Configuration;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// The recovery model the scheduler uses: <see cref="RecoveryStatistics"/> learned from this installation's own dunning
/// retries (smoothed toward <see cref="RecoveryPriors"/>, so a new install schedules from the priors), loaded from the
/// database and kept for <see cref="RefreshInterval"/> so that scheduling a case costs no aggregate query.
/// </summary>
public sealed class RecoveryHistory(NpgsqlDataSource dataSource, TimeProvider clock, IOptionsMonitor<BillingOptions> billing)
{
    /// <summary>The history changes slowly; an hour-old model schedules as well as a fresh one.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromHours(1);

    /// <summary>Retries older than this no longer describe the customers' behaviour.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromDays(365);

    private readonly SemaphoreSlim _loading = new(1, 1);
    private (RecoveryStatistics Model, DateTimeOffset LoadedAt)? _current;

    /// <summary>The model, loaded again when it is older than <see cref="RefreshInterval"/>.</summary>
    public async Task<RecoveryStatistics> CurrentAsync(CancellationToken ct)
    {
        if (_current is { } current && clock.GetUtcNow() - current.LoadedAt < RefreshInterval) return current.Model;
        await _loading.WaitAsync(ct);
        try
        {
            // Another caller may have loaded it while this one waited.
            if (_current is { } loaded && clock.GetUtcNow() - loaded.LoadedAt < RefreshInterval) return loaded.Model;
            return await RefreshLockedAsync(ct);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Loads the model now, whatever its age.</summary>
    public async Task<RecoveryStatistics> RefreshAsync(CancellationToken ct)
    {
        await _loading.WaitAsync(ct);
        try
        {
            return await RefreshLockedAsync(ct);
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<RecoveryStatistics> RefreshLockedAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var model = RecoveryStatistics.FromAggregates(await LoadAggregatesAsync(now - Lookback, ct));
        _current = (model, now);
        return model;
    }

    /// <summary>
    /// Every settled dunning retry since <paramref name="since"/>, counted by the levels of <see cref="RecoveryLevels"/>:
    /// the decline of the failure it follows, its number in the case, whole days since the case opened, and the weekday, hour
    /// and day of month in the customer's time zone (else the billing time zone), the clock the scheduler plans on.
    /// </summary>
    public async Task<IReadOnlyList<AttemptAggregate>> LoadAggregatesAsync(DateTimeOffset since, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string DeclineCode, long AttemptNumber, int Days, int Weekday, int Hour, int Day, bool LastDay, long Attempts, long Successes)>(
            new CommandDefinition($"""
                with settled as (
                  select a.invoice_id, a.attempt_number, a.trigger, a.status, a.started_at,
                         lag(a.decline_code) over (partition by a.invoice_id order by a.attempt_number) as previous_decline
                  from payment_attempts a
                  where a.status in ('succeeded', 'failed') and a.started_at >= @Since
                ), retries as (
                  select coalesce(r.previous_decline, d.last_decline_code, 'generic_decline') as decline_code,
                         row_number() over (partition by d.id order by r.attempt_number) as attempt_number,
                         least(floor(extract(epoch from r.started_at - d.opened_at) / 86400), {RecoveryLevels.MaxDays})::int as days,
                         r.started_at at time zone coalesce(c.time_zone, @BillingTimeZone) as local, r.status
                  from dunning_cases d join settled r on r.invoice_id = d.invoice_id join customers c on c.id = d.customer_id
                  where r.trigger = 'dunning_retry' and r.started_at >= d.opened_at and (d.closed_at is null or r.started_at <= d.closed_at)
                )
                select decline_code, attempt_number, days, extract(dow from local)::int as weekday, extract(hour from local)::int as hour,
                       extract(day from local)::int as day, local::date = (date_trunc('month', local) + interval '1 month - 1 day')::date as last_day,
                       count(*) as attempts, count(*) filter (where status = 'succeeded') as successes
                from retries group by 1, 2, 3, 4, 5, 6, 7
                """, new { Since = since, BillingTimeZone = billing.CurrentValue.TimeZone }, cancellationToken: ct));
        return [.. rows.Select(r => new AttemptAggregate(r.DeclineCode, (int)r.AttemptNumber, r.Days, (DayOfWeek)r.Weekday, r.Hour, r.Day, r.LastDay,
            r.Attempts, r.Successes))];
    }
}
