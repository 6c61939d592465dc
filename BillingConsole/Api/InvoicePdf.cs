using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Extensions;
using BillingConsole.Pdf;
using BillingConsole.ReadModels;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api;

/// <summary>The invoice as the customer receives it, opened in the browser from the invoice page.</summary>
public static class InvoicePdf
{
    public static IEndpointConventionBuilder MapInvoicePdf(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/invoices/{id:guid}/pdf", async (Guid id, HttpContext context, InvoiceDetails details,
            IOptionsMonitor<BillingOptions> billing, BillingCalendar calendar) =>
        {
            var invoice = await details.FindAsync(id, context.RequestAborted);
            if (invoice is null)
                return Results.Problem(title: "Invoice not found", detail: $"There is no invoice with id {id}.", statusCode: StatusCodes.Status404NotFound);
            var pdf = InvoiceDocument.Render(invoice, billing.CurrentValue, calendar);
            // Invoice numbers are the prefix (capitals, digits, dashes) and digits, so the name needs no escaping.
            context.Response.Headers.ContentDisposition = $"inline; filename=\"{invoice.Number ?? $"invoice-{id}"}.pdf\"";
            // A customer's invoice must not linger in shared or browser caches.
            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(pdf, "application/pdf");
        }).RequireAuthorization(ConsolePolicies.Read);
}
