using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Creating and changing customers and their payment methods. Each command validates first, writes in one transaction
/// (the caller's when it has one) and records who did it in the audit trail.
/// </summary>
public sealed class CustomerCommands(
    BillingDbContext db,
    AuditTrail audit,
    TimeProvider clock,
    IValidator<CreateCustomer> createValidator,
    IValidator<UpdateCustomer> updateValidator,
    IValidator<AttachPaymentMethod> paymentMethodValidator)
{
    public const string DefaultGateway = "sandbox";

    public async Task<CustomerView> CreateAsync(CreateCustomer command, Actor actor, string reason, CancellationToken ct)
    {
        await createValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            await EnsureExternalRefFreeAsync(command.ExternalRef, null, ct);
            var customer = new Customer(command.Name!, command.Email!, command.Currency!, ToAddress(command.Address), clock.GetStoredNow(),
                command.ExternalRef, command.TimeZone, command.TaxId);
            if (command.CollectionMethod is not null) customer.ChangeCollectionMethod(ParseCollectionMethod(command.CollectionMethod), command.DaysUntilDue);
            // Made while working for a test clock (its page): a test customer of that clock.
            if (EngineClock.TestClockId is { } clockId) customer.PutOnTestClock(clockId);
            db.Customers.Add(customer);
            var view = CustomerView.From(customer);
            audit.Record(actor, "customer.created", "customer", customer.Id, reason, after: view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    public async Task<CustomerView> UpdateAsync(Guid customerId, UpdateCustomer command, Actor actor, string reason, CancellationToken ct)
    {
        await updateValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            await db.LockCustomerAsync(customerId, ct);
            var customer = await FindAsync(customerId, ct);
            var before = CustomerView.From(customer);
            if (command.Name is not null || command.Email is not null) customer.Rename(command.Name ?? customer.Name, command.Email ?? customer.Email);
            if (command.Address is not null) customer.ChangeAddress(ToAddress(command.Address));
            if (command.ExternalRef is not null)
            {
                await EnsureExternalRefFreeAsync(command.ExternalRef, customer.Id, ct);
                customer.ChangeExternalRef(command.ExternalRef);
            }
            if (command.TimeZone is not null) customer.ChangeTimeZone(command.TimeZone);
            if (command.TaxId is not null) customer.ChangeTaxId(command.TaxId);
            if (command.Currency is not null && !string.Equals(command.Currency, customer.Currency, StringComparison.OrdinalIgnoreCase))
            {
                var billed = await db.Subscriptions.AnyAsync(s => s.CustomerId == customerId, ct)
                             || await db.Invoices.AnyAsync(i => i.CustomerId == customerId, ct);
                if (billed) throw new DomainRuleException("The currency cannot change once the customer has subscriptions or invoices.");
                customer.ChangeCurrency(command.Currency);
            }
            if (command.CollectionMethod is not null) customer.ChangeCollectionMethod(ParseCollectionMethod(command.CollectionMethod), command.DaysUntilDue);
            var after = CustomerView.From(customer);
            audit.Record(actor, "customer.updated", "customer", customer.Id, reason, before, after);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    /// <summary>
    /// Attaches a card by its gateway token; it becomes the customer's default payment method, and the customer's dunning
    /// cases waiting for a new card go back to waiting for a retry, in the same transaction. Charging the card at once is
    /// <see cref="PayPage.CardUpdates"/>'s, which every way of attaching a card goes through.
    /// </summary>
    public async Task<PaymentMethodView> AttachPaymentMethodAsync(Guid customerId, AttachPaymentMethod command, Actor actor, string reason,
        CancellationToken ct)
    {
        await paymentMethodValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            // One new card at a time, so a pay link checked in the caller's transaction cannot be used twice at once.
            await db.LockCustomerAsync(customerId, ct);
            var customer = await db.Customers.Include(c => c.PaymentMethods).SingleOrDefaultAsync(c => c.Id == customerId, ct)
                           ?? throw new ResourceNotFoundException("customer", customerId);
            var gateway = command.Gateway ?? DefaultGateway;
            if (await db.PaymentMethods.AnyAsync(p => p.Gateway == gateway && p.Token == command.Token, ct))
                throw new DomainRuleException("This gateway token is already attached to a customer.");
            var method = customer.AttachPaymentMethod(gateway, command.Token!.Trim(), command.Brand!.Trim(), command.Last4!,
                command.ExpMonth!.Value, command.ExpYear!.Value, clock.GetStoredNow());
            var view = PaymentMethodView.From(method);
            audit.Record(actor, "payment_method.attached", "customer", customer.Id, reason, after: view);
            await MoveWaitingCasesOnAsync(customer.Id, actor, ct);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>
    /// The card behind a stored gateway token was replaced by the card network's updater (new last four digits or expiry).
    /// When it is the customer's default, their cases waiting for a new card move on as for a new card. Null when no attached
    /// payment method has that token (a gateway's own token, such as Stripe's "cus_…/pm_…"), or nothing changed.
    /// </summary>
    public async Task<PaymentMethodView?> UpdateCardAsync(string token, string last4, int expMonth, int expYear, Actor actor, string reason,
        CancellationToken ct)
    {
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await db.PaymentMethods.Where(p => p.Token == token && p.DetachedAt == null)
                .Select(p => (Guid?)p.CustomerId).FirstOrDefaultAsync(ct);
            if (customerId is not { } id) return null;
            await db.LockCustomerAsync(id, ct);
            var method = await db.PaymentMethods.FirstAsync(p => p.CustomerId == id && p.Token == token && p.DetachedAt == null, ct);
            var before = PaymentMethodView.From(method);
            if (!method.UpdateCard(last4, expMonth, expYear)) return null;
            var after = PaymentMethodView.From(method);
            audit.Record(actor, "payment_method.updated", "customer", id, reason, before, after);
            if (method.IsDefault) await MoveWaitingCasesOnAsync(id, actor, ct);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    /// <summary>
    /// Tells the customer's open cases of the new card. Locked, so a retry runner claiming one waits for this transaction (and
    /// one it already claimed is left to it, its charge's outcome deciding).
    /// </summary>
    private async Task MoveWaitingCasesOnAsync(Guid customerId, Actor actor, CancellationToken ct)
    {
        var cases = await db.DunningCases.FromSqlInterpolated($"""
            select c.*, c.xmin from dunning_cases c
            where c.customer_id = {customerId} and c.status in ('retry_pending', 'awaiting_payment_method')
            for update of c
            """).ToListAsync(ct);
        foreach (var dunningCase in cases)
        {
            var waitedForCard = dunningCase.Status == DunningStatus.AwaitingPaymentMethod;
            dunningCase.PaymentMethodAttached(clock.GetUtcNow());
            if (waitedForCard)
                audit.Record(actor, "dunning.payment_method_attached", "dunning_case", dunningCase.Id,
                    "A new payment method was attached: the case waits for its charge again.");
        }
    }

    /// <summary>
    /// A support note on the customer's timeline. The note is its own reason in the audit log, so it is held to the audit
    /// log's length for a reason.
    /// </summary>
    public async Task AddNoteAsync(Guid customerId, Actor actor, string note, CancellationToken ct)
    {
        AuditTrail.RequireReason(note);
        await EnsureCustomerExistsAsync(customerId, ct);
        var added = new CustomerNote { CustomerId = customerId, Author = actor.Name, Body = note.Trim(), CreatedAt = clock.GetStoredNow() };
        db.CustomerNotes.Add(added);
        audit.Record(actor, "customer.note_added", "customer", customerId, added.Body, after: new { added.Author, added.Body });
        await db.SaveChangesAsync(ct);
    }

    private async Task EnsureCustomerExistsAsync(Guid customerId, CancellationToken ct)
    {
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) throw new ResourceNotFoundException("customer", customerId);
    }

    private async Task<Customer> FindAsync(Guid customerId, CancellationToken ct) =>
        await db.Customers.SingleOrDefaultAsync(c => c.Id == customerId, ct) ?? throw new ResourceNotFoundException("customer", customerId);

    private async Task EnsureExternalRefFreeAsync(string? externalRef, Guid? self, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(externalRef)) return;
        var trimmed = externalRef.Trim();
        if (await db.Customers.AnyAsync(c => c.ExternalRef == trimmed && c.Id != self, ct))
            throw new DomainRuleException($"Another customer already has the external reference '{trimmed}'.");
    }

    /// <summary>For a validated command: the validator has checked the spelling.</summary>
    private static CollectionMethod ParseCollectionMethod(string text) =>
        EnumNames.TryParseSnakeCase<CollectionMethod>(text, out var method) ? method : throw new DomainRuleException($"Unknown collection method '{text}'.");

    private static CustomerAddress ToAddress(AddressInput? address) => address is null
        ? CustomerAddress.Empty
        : new CustomerAddress(address.Line1!.Trim(), string.IsNullOrWhiteSpace(address.Line2) ? null : address.Line2.Trim(), address.City!.Trim(),
            address.PostalCode!.Trim(), address.Country!.Trim().ToUpperInvariant(),
            string.IsNullOrWhiteSpace(address.Region) ? null : address.Region.Trim().ToUpperInvariant());
}
