using BillingConsole.Persistence.Availability;
using Npgsql;

namespace BillingConsole.Components.Shared;

/// <summary>The sentence a page shows instead of itself when it fails; the failure itself is logged by the error boundary.</summary>
public static class PageFailure
{
    public static string Explain(Exception error, ReadOnlyState readOnly) => error switch
    {
        ReadOnlyException refused => refused.Message,
        _ when readOnly.IsReadOnly || error is NpgsqlException or TimeoutException =>
            "This page cannot be read because the database cannot be reached; it works again as soon as the database is back.",
        _ => "This page failed unexpectedly and the error was logged; reload the page to try again.",
    };
}
