namespace BillingConsole.Domain.Common;

/// <summary>The delay before the next try of an outbox row (an email, an event): 1 minute, doubling each failure, up to a ceiling.</summary>
public static class Backoff
{
    public static TimeSpan Exponential(int failedAttempts, TimeSpan longest)
    {
        var minutes = Math.Pow(2, Math.Clamp(failedAttempts - 1, 0, 30));
        return minutes >= longest.TotalMinutes ? longest : TimeSpan.FromMinutes(minutes);
    }
}
