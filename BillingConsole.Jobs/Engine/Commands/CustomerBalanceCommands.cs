using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// A person's credit or debit on a customer's credit balance, with a reason. A credit is goodwill the next invoices use; a
/// debit takes back credit the customer holds, never more (money owed beyond it is a one-off invoice, see
/// <see cref="OneOffInvoiceCommands"/>). Both post to refunds, the contra-revenue account credit notes use.
/// </summary>
public sealed class CustomerBalanceCommands(BillingDbContext db, AuditTrail audit, TimeProvider clock, IValidator<AdjustBalance> validator)
{
    public async Task<BalanceAdjustmentView> AdjustAsync(Guid customerId, AdjustBalance input, Actor actor, string reason, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(input, ct);
        AuditTrail.RequireReason(reason);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var customer = await LockedCustomerAsync(db, customerId, ct);
            var amount = Money.Exact(input.Amount!.Value, CustomerCurrency(customer, input.Currency));
            var before = Amounts.Of(customer.CreditBalance);
            var adjustmentId = Guid.NewGuid();
            var now = clock.GetStoredNow();
            var credit = input.Direction == BalanceDirections.Credit;
            if (credit) customer.AddCredit(amount);
            else if (amount > customer.CreditBalance)
                throw new DomainRuleException($"A debit of {amount} is more than the {customer.CreditBalance} of credit the customer holds; to charge more, create a one-off invoice.");
            else customer.UseCredit(amount);
            var postings = credit
                ? LedgerPostings.CreditGranted(customer.Id, adjustmentId, amount, now)
                : LedgerPostings.CreditDebited(customer.Id, adjustmentId, amount, now);
            db.LedgerEntries.AddRange(postings.SelectMany(t => t.Balanced()));
            var view = new BalanceAdjustmentView(adjustmentId, customer.Id, input.Direction!, Amounts.Of(amount), amount.Currency,
                Amounts.Of(customer.CreditBalance), now);
            audit.Record(actor, $"customer.balance_{input.Direction}", "customer", customer.Id, reason, new { CreditBalance = before }, view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>The customer, locked for this transaction (one customer lock for every money movement), or not found.</summary>
    internal static async Task<Customer> LockedCustomerAsync(BillingDbContext db, Guid customerId, CancellationToken ct)
    {
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) throw new ResourceNotFoundException("customer", customerId);
        await db.LockCustomerAsync(customerId, ct);
        return await db.Customers.SingleAsync(c => c.Id == customerId, ct);
    }

    /// <summary>The customer's currency; a currency given that is not it is refused, not converted.</summary>
    internal static string CustomerCurrency(Customer customer, string? given) =>
        given is null || Currencies.Normalize(given) == customer.Currency
            ? customer.Currency
            : throw new DomainRuleException($"The customer is billed in {customer.Currency}, not {Currencies.Normalize(given)}.");
}
