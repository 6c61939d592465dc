using BillingConsole.Components.Shared;
using BillingConsole.ReadModels;

namespace BillingConsole.Components.Pages.Dashboard;

/// <summary>
/// The lists behind the dashboard's figures, written with the lists' own filters so each link lists exactly the rows its
/// figure counts: the same statuses, currency, due dates and window, from the day the figures were computed.
/// </summary>
public static class DashboardLinks
{
    public static string Subscriptions(string status) =>
        "/subscriptions" + ListFilters.ToQueryString(new SubscriptionListFilter { Status = status });

    public static string NewThisMonth(DashboardFigures figures) =>
        "/subscriptions" + ListFilters.ToQueryString(new SubscriptionListFilter { CreatedFrom = figures.MonthStart });

    /// <summary>The dunning queue with no filter lists every open case, as the queue depth counts them.</summary>
    public const string DunningQueue = "/dunning";

    public static string Invoices(StatusFigure status) =>
        "/invoices" + ListFilters.ToQueryString(new InvoiceListFilter { Status = status.Status });

    public static string Invoices(DashboardFigures figures, AgingBucket bucket) =>
        "/invoices" + ListFilters.ToQueryString(new InvoiceListFilter
        {
            Status = "open",
            DueFrom = bucket.DueFrom(figures.Today),
            DueTo = bucket.DueTo(figures.Today),
            Currency = bucket.Currency,
        });

    public static string FailedPayments(DashboardFigures figures, DeclineFigure decline) =>
        "/payments" + ListFilters.ToQueryString(new PaymentListFilter
        {
            Status = "failed", DeclineCode = decline.DeclineCode, From = figures.DeclinesFrom, To = figures.Today,
        });
}
