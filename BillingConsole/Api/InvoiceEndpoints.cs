using BillingConsole.Engine.Commands;

namespace BillingConsole.Api;

public static class InvoiceEndpoints
{
    public static void MapInvoiceEndpoints(this IEndpointRouteBuilder api)
    {
        var invoices = api.MapGroup("/invoices").WithTags("Invoices");

        invoices.MapPost("/{id:guid}/refunds", (Guid id, RefundPayment body, HttpContext http, RefundCommands refunds) =>
                IdempotentCommand.RunAsync(http, "invoices.refund", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => refunds.RequestAsync(id, body, actor, reason, ct),
                    afterCommit: (refund, _, ct) => refunds.SendAsync(refund.Id, ct)))
            .Command<RefundView>("RefundPayment",
                "Refund part or all of a paid invoice's payment (the whole rest when amount is left out); answered pending, then sent to the gateway under the refund's own key: read GET /refunds/{id} for its outcome and credit note",
                StatusCodes.Status201Created);

        invoices.MapPost("/{id:guid}/credit-notes", (Guid id, IssueCreditNote body, HttpContext http, CreditNoteCommands creditNotes) =>
                IdempotentCommand.RunAsync(http, "invoices.credit", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => creditNotes.IssueAsync(id, body, actor, reason, ct)))
            .Command<CreditNoteView>("IssueCreditNote",
                "Issue a credit note: on an open invoice it reduces the amount due, on a paid one it credits the customer's balance",
                StatusCodes.Status201Created);

        api.MapGet("/refunds/{id:guid}", (Guid id, RefundCommands refunds, CancellationToken ct) => refunds.ViewAsync(id, ct))
            .WithTags("Invoices").WithName("GetRefund").WithSummary("A refund: pending, succeeded (with its credit note) or failed")
            .Produces<RefundView>().ProducesProblem(StatusCodes.Status404NotFound);
    }
}
