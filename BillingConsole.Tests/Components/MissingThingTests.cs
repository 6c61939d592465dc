using BillingConsole.Components.Pages.Errors;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Components;

[PureTests]
public sealed class MissingThingTests
{
    [Theory]
    [InlineData("/customers/3f2b8c1e-0000-4000-8000-000000000001", "Customer not found", "/customers")]
    [InlineData("/Invoices/3f2b8c1e-0000-4000-8000-000000000001", "Invoice not found", "/invoices")]
    [InlineData("/dunning/3f2b8c1e-0000-4000-8000-000000000001/", "Dunning case not found", "/dunning")]
    [InlineData("/billing-runs/3f2b8c1e-0000-4000-8000-000000000001", "Billing run not found", "/billing-runs")]
    [InlineData("/customers/not-a-guid", "Page not found", "/")]
    [InlineData("/customers", "Page not found", "/")]
    [InlineData("/reports/3f2b8c1e-0000-4000-8000-000000000001", "Page not found", "/")]
    [InlineData("/", "Page not found", "/")]
    public void An_address_that_matched_nothing_says_what_it_asked_for(string path, string title, string back)
    {
        var missing = MissingThing.At(path);
        Assert.Equal((title, back), (missing.Title, missing.BackHref));
    }
}
