using BillingConsole.Domain.Tax;
using System.Net;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Pdf;

public sealed class InvoicePdfEndpointTests(ConsoleAppHost host)
{
    [Fact]
    public async Task Signed_in_staff_open_the_invoice_pdf_and_anonymous_visitors_are_sent_to_sign_in()
    {
        var ct = TestContext.Current.CancellationToken;
        var (invoiceId, number) = await IssueInvoiceAsync(ct);
        var path = $"/invoices/{invoiceId}/pdf";

        using var anonymous = host.CreateClient();
        using var refused = await anonymous.GetAsync(path, ct);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/account/login", new Uri(host.BaseAddress, refused.Headers.Location!).PathAndQuery);

        using var finance = await host.SignedInClientAsync("finance", "x");
        using var response = await finance.GetAsync(path, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"inline; filename=\"{number}.pdf\"", string.Join(", ", response.Content.Headers.GetValues("Content-Disposition")));
        var pdf = RenderedPdf.Read(await response.Content.ReadAsByteArrayAsync(ct));
        Assert.True(pdf.Contains(number), $"{number} is not in the PDF");
        Assert.True(pdf.Contains("Pdf Endpoint Customer"));
        Assert.True(pdf.Contains("10115 Berlin"));
        Assert.True(pdf.Contains("Germany"));
        Assert.Contains("€147.00", pdf.Words);

        using var missing = await finance.GetAsync($"/invoices/{Guid.NewGuid()}/pdf", ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A customer of its own, a plan with a price, and an invoice issued the way the engine issues them.</summary>
    private async Task<(Guid InvoiceId, string Number)> IssueInvoiceAsync(CancellationToken ct)
    {
        using var scope = host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var customer = new Customer("Pdf Endpoint Customer", $"pdf-{suffix}@example.test", "EUR",
            new CustomerAddress("Invalidenstraße 116", null, "Berlin", "10115", "DE"), now);
        var plan = new Plan($"pdf-{suffix}", "Team", "Team plan");
        var price = plan.AddPrice(new Money(49m, "EUR"), BillingInterval.Month, 0);
        db.Customers.Add(customer);
        db.Plans.Add(plan);

        var lines = new[] { new InvoiceLineDraft(InvoiceLineKind.Recurring, "Team", 3, price.Amount, price.Amount * 3, now, now.AddMonths(1), price.Id) };
        var generated = GeneratedInvoice.Create(customer.Id, null, InvoiceKind.OneOff, "EUR", now, now.AddMonths(1), lines, customer.CreditBalance, InvoiceTax.None);
        var invoice = await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().IssueAsync(customer, generated, null, ct);
        await db.SaveChangesAsync(ct);
        return (invoice.Id, invoice.Number!);
    }
}
