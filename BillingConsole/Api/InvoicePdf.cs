using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Extensions;
using BillingConsole.Pdf;
using BillingConsole.ReadModels;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api;

/// <summary>The invoice and its credit notes as the customer receives them, opened in the browser from the console's pages.</summary>
public static class InvoicePdf
{
    public static void MapInvoicePdf(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/invoices/{id:guid}/pdf", async (Guid id, HttpContext context, InvoiceDetails details,
            IOptionsMonitor<BillingOptions> billing, BillingCalendar calendar) =>
        {
            var invoice = await details.FindAsync(id, context.RequestAborted);
            if (invoice is null)
                return Results.Problem(title: "Invoice not found", detail: $"There is no invoice with id {id}.", statusCode: StatusCodes.Status404NotFound);
            // Invoice numbers are the prefix (capitals, digits, dashes) and digits, so the name needs no escaping.
            return Inline(context, InvoiceDocument.Render(invoice, billing.CurrentValue, calendar), invoice.Number ?? $"invoice-{id}");
        }).RequireAuthorization(ConsolePolicies.Read);

        endpoints.MapGet("/credit-notes/{id:guid}/pdf", async (Guid id, HttpContext context, CreditNoteDetails details,
            IOptionsMonitor<BillingOptions> billing, BillingCalendar calendar) =>
        {
            var note = await details.FindAsync(id, context.RequestAborted);
            if (note is null)
                return Results.Problem(title: "Credit note not found", detail: $"There is no credit note with id {id}.", statusCode: StatusCodes.Status404NotFound);
            return Inline(context, CreditNoteDocument.Render(note, billing.CurrentValue, calendar), note.Number);
        }).RequireAuthorization(ConsolePolicies.Read);
    }

    private static IResult Inline(HttpContext context, byte[] pdf, string name)
    {
        context.Response.Headers.ContentDisposition = $"inline; filename=\"{name}.pdf\"";
        // A customer's documents must not linger in shared or browser caches.
        context.Response.Headers.CacheControl = "no-store";
        return Results.Bytes(pdf, "application/pdf");
    }
}
