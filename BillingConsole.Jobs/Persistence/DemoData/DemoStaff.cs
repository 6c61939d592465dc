using System.Globalization;

namespace BillingConsole.Persistence.DemoData;

/// <summary>The people of the demo business who show up in the audit trail, and what they tend to write as a reason.</summary>
internal static class DemoStaff
{
    public const string SupportRole = "support";
    public const string AdminRole = "admin";
    public const string FinanceRole = "finance";

    public static readonly string[] SupportAgents =
    [
        "amira.haddad@northbeam.example", "jonas.weber@northbeam.example", "lucia.fernandez@northbeam.example",
        "tom.okafor@northbeam.example", "mei.chen@northbeam.example",
    ];

    public static readonly string[] Admins = ["priya.raman@northbeam.example", "daniel.kim@northbeam.example"];

    public const string FinanceLead = "grace.murphy@northbeam.example";

    public static readonly string[] RetryReasons =
    [
        "Customer called: salary arrived this morning, asked us to retry now.",
        "Customer confirmed on chat that funds are available again.",
        "Bank told the customer the block was lifted; retrying before the next scheduled attempt.",
        "Customer's finance team asked for a retry after raising the card limit.",
        "Retrying after the customer confirmed the 3-D Secure issue is resolved with their bank.",
    ];

    public static readonly string[] VoidReasons =
    [
        "Customer asked to cancel before the renewal and our cancellation form failed; voiding the renewal.",
        "Customer had emailed a cancellation request two days before renewal; honouring it.",
        "Duplicate workspace: customer only meant to keep their other account. Voided and canceled.",
        "Renewal charged after the customer closed their business; voiding as agreed with finance.",
    ];

    public static readonly string[] UnpaidReasons =
    [
        "Company card frozen while their bank reviews it; suspend the service until they pay.",
        "Customer disputes the amount with their procurement team; suspend until resolved.",
        "Third overdue invoice this year; suspending until paid, as agreed with finance.",
    ];

    public static readonly string[] PauseDunningReasons =
    [
        "Customer is switching banks this week; hold retries so the card is not blocked for fraud.",
        "Customer opened a dispute about the amount; no retries until finance has answered.",
        "Customer is on leave until next week and asked us not to charge the card meanwhile.",
    ];

    public static string CreditReason(DemoRandom random, DateTime at) => random.Next(5) switch
    {
        0 => Invariant($"Goodwill credit for the dashboard outage on {at.AddDays(-random.Next(1, 6)):MMM d}."),
        1 => Invariant($"Charged twice in {at.AddMonths(-1):MMMM}; credit instead of a refund, as the customer preferred."),
        2 => "Compensation for a slow support response on a billing question.",
        3 => "Migration discount promised by sales when the customer moved from a competitor.",
        _ => "Loyalty credit: customer since our first months.",
    };

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Amount(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
