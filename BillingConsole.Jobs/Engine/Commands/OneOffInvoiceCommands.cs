using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// An invoice with free lines a person or an upstream system writes, outside any subscription: numbered, posted and collected
/// like every invoice, taxed by the rule the billing run uses, the customer's credit applied. It is charged at once
/// (<see cref="ChargeIfDueAsync"/>, after the issue committed) or sent to the customer, due in the days given and never
/// charged automatically, whatever the customer's own collection method.
/// </summary>
public sealed class OneOffInvoiceCommands(
    BillingDbContext db,
    InvoiceIssuer issuer,
    PaymentProcessor payments,
    AuditTrail audit,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> options,
    CustomerTaxes taxes,
    IValidator<CreateOneOffInvoice> validator)
{
    public async Task<InvoiceView> CreateAsync(Guid customerId, CreateOneOffInvoice input, Actor actor, string reason, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(input, ct);
        AuditTrail.RequireReason(reason);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var customer = await CustomerBalanceCommands.LockedCustomerAsync(db, customerId, ct);
            var currency = CustomerBalanceCommands.CustomerCurrency(customer, input.Currency);
            var now = clock.GetStoredNow();
            var lines = input.Lines!.Select(line =>
            {
                var unit = Money.Exact(line.UnitPrice!.Value, currency);
                return new InvoiceLineDraft(InvoiceLineKind.OneOff, line.Description!.Trim(), line.Quantity!.Value, unit, unit * line.Quantity.Value, now, now, null);
            }).ToList();
            var generated = GeneratedInvoice.Create(customer.Id, null, InvoiceKind.OneOff, currency, now, now, lines, customer.CreditBalance,
                await taxes.ForAsync(customer, ct));
            if (!generated.Total.IsPositive) throw new DomainRuleException("The invoice's total is zero: give at least one line a price.");

            var invoice = await issuer.IssueAsync(customer, generated, null, ct, Terms(input));
            var view = InvoiceView.From(invoice);
            audit.Record(actor, "invoice.one_off_issued", "invoice", invoice.Id, reason, after: view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>
    /// Charges a one-off issued to be charged at once, when something is due after the customer's credit; null otherwise.
    /// Called after the issue committed, never inside its transaction: a charge is not undone by a rollback.
    /// </summary>
    public async Task<ChargeResult?> ChargeIfDueAsync(InvoiceView invoice, CreateOneOffInvoice input, Actor actor, CancellationToken ct) =>
        input.Collection == OneOffCollections.ChargeNow && invoice.AmountDue > 0
            ? await payments.ChargeAsync(invoice.Id!.Value, PaymentTrigger.Manual, actor, ct)
            : null;

    /// <summary>Issues the invoice and, when it is to be charged at once, charges it: what the console does in one step.</summary>
    public async Task<OneOffInvoiceIssued> IssueAndChargeAsync(Guid customerId, CreateOneOffInvoice input, Actor actor, string reason, CancellationToken ct)
    {
        var invoice = await CreateAsync(customerId, input, actor, reason, ct);
        return new OneOffInvoiceIssued(invoice, await ChargeIfDueAsync(invoice, input, actor, ct));
    }

    private InvoiceTerms Terms(CreateOneOffInvoice input) => input.Collection == OneOffCollections.SendInvoice
        ? new InvoiceTerms(CollectionMethod.SendInvoice, TimeSpan.FromDays(input.DaysUntilDue!.Value))
        : new InvoiceTerms(CollectionMethod.ChargeAutomatically, TimeSpan.FromDays(options.CurrentValue.PaymentTermsDays));
}
