using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Browser;

/// <summary>The console's lists and the customer that tests their widths with.</summary>
public static class ConsoleLists
{
    /// <summary>Each list's address and the test id of its grid.</summary>
    public static TheoryData<string, string> Grids => new()
    {
        { "/customers", "customer-grid" },
        { "/subscriptions", "subscription-grid" },
        { "/invoices", "invoice-grid" },
        { "/payments", "payment-grid" },
        { "/dunning", "dunning-grid" },
    };

    /// <summary>A customer with a failed invoice whose name and email have no break in them, unique to the caller.</summary>
    public static Task<FailedInvoice> CreateLongNamedCustomerAsync(IServiceProvider services)
    {
        var suffix = Guid.NewGuid().ToString("N");
        return FailedInvoices.CreateAsync(services, $"accounts.payable.department.{suffix}@subsidiary-of-a-very-long-company-name.example",
            name: $"Konstantinopolitanischedudelsackpfeifenmachergesellschaft{suffix[..8]} International Holdings");
    }
}
