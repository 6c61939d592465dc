using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>A customer just created through the engine: its page says what it does not have yet instead of showing bare table headers.</summary>
public sealed class EmptyCustomerPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task A_new_customers_page_says_there_is_no_subscription_invoice_payment_or_email_yet()
    {
        CustomerView customer;
        await using (var scope = host.Services.CreateAsyncScope())
            customer = await scope.ServiceProvider.GetRequiredService<CustomerCommands>().CreateAsync(
                new CreateCustomer("Blank Slate Ltd", $"blank-{Guid.NewGuid():N}@example.test", "USD", null, null), Actor.System, "empty page test",
                TestContext.Current.CancellationToken);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/customers/{customer.Id}");
        await WaitUntilInteractiveAsync(page);

        await Expect(page.GetByTestId("customer-subscriptions-empty")).ToHaveTextAsync("The customer has no subscription yet.");
        await Expect(page.GetByTestId("customer-invoices-empty")).ToHaveTextAsync("No invoice has been issued to the customer yet.");
        await Expect(page.GetByTestId("customer-payments-empty")).ToHaveTextAsync("No payment has been attempted yet.");
        await Expect(page.GetByTestId("notifications-empty")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("customer-invoices")).ToHaveCountAsync(0);
    }
}
