using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Commands;

namespace BillingConsole.Api;

public static class CustomerEndpoints
{
    public static void MapCustomerEndpoints(this IEndpointRouteBuilder api)
    {
        var customers = api.MapGroup("/customers").WithTags("Customers");

        customers.MapPost("/", (CreateCustomer body, HttpContext http, CustomerCommands commands) =>
                IdempotentCommand.RunAsync(http, "customers.create", body, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.CreateAsync(body, actor, reason, ct)))
            .Command<CustomerView>("CreateCustomer", "Create a customer", StatusCodes.Status201Created);

        customers.MapPatch("/{id:guid}", (Guid id, UpdateCustomer body, HttpContext http, CustomerCommands commands) =>
                IdempotentCommand.RunAsync(http, "customers.update", new { id, body }, StatusCodes.Status200OK,
                    (actor, reason, ct) => commands.UpdateAsync(id, body, actor, reason, ct)))
            .Command<CustomerView>("UpdateCustomer", "Change a customer's name, email, currency, address, external reference or collection method");

        customers.MapPost("/{id:guid}/payment-methods", (Guid id, AttachPaymentMethod body, HttpContext http, CustomerCommands commands, CardUpdates cards) =>
                IdempotentCommand.RunAsync(http, "customers.attach_payment_method", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.AttachPaymentMethodAsync(id, body, actor, reason, ct),
                    afterCommit: (_, actor, ct) => cards.ChargeOpenDunningInvoicesAsync(id, actor, ct)))
            .Command<PaymentMethodView>("AttachPaymentMethod", "Attach a card by its gateway token (never a card number); it becomes the default, and the customer's open dunning invoices are charged to it at once", StatusCodes.Status201Created);

        customers.MapPost("/{id:guid}/balance-adjustments", (Guid id, AdjustBalance body, HttpContext http, CustomerBalanceCommands balances) =>
                IdempotentCommand.RunAsync(http, "customers.adjust_balance", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => balances.AdjustAsync(id, body, actor, reason, ct)))
            .Command<BalanceAdjustmentView>("AdjustCustomerBalance",
                "Credit the customer's credit balance, or debit it (at most what it holds); the next invoices use the credit", StatusCodes.Status201Created);

        customers.MapPost("/{id:guid}/invoices", (Guid id, CreateOneOffInvoice body, HttpContext http, OneOffInvoiceCommands invoices) =>
                IdempotentCommand.RunAsync(http, "customers.create_one_off_invoice", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => invoices.CreateAsync(id, body, actor, reason, ct),
                    afterCommit: (invoice, actor, ct) => invoices.ChargeIfDueAsync(invoice, body, actor, ct)))
            .Command<InvoiceView>("CreateOneOffInvoice",
                "Issue a one-off invoice with free lines, taxed like every invoice: charged at once (charge_now; read the invoice for the outcome) or sent due in daysUntilDue (send_invoice)",
                StatusCodes.Status201Created);

        customers.MapGet("/{id:guid}/invoices", (Guid id, string? limit, string? startingAfter, CustomerInvoices invoices, CancellationToken ct) =>
                invoices.PageAsync(id, QueryValues.Int(limit, nameof(limit)) ?? 20, QueryValues.Guid(startingAfter, nameof(startingAfter)), ct))
            .WithName("ListCustomerInvoices").WithSummary("A customer's invoices, newest first; pass nextCursor as startingAfter for the next page")
            .Produces<InvoicePage>().ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem();
    }
}
