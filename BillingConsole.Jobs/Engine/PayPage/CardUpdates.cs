using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.PayPage;

/// <summary>
/// The customer's new default payment method, wherever it comes from (the upstream API, support's console, the customer's
/// pay page, the gateway's webhooks): attached and the waiting dunning cases moved on in one transaction
/// (<see cref="CustomerCommands.AttachPaymentMethodAsync"/>), then every open dunning invoice of the customer charged to it
/// at once, one charge each under the usual idempotency keys and locks, so a case that waited for a card recovers now.
/// </summary>
public sealed class CardUpdates(CustomerCommands customers, PaymentProcessor payments, IPaymentGateway gateway, BillingDbContext db, TimeProvider clock)
{
    /// <summary>Attaches the card, then charges. A caller with a transaction of its own attaches, commits, then calls <see cref="ChargeOpenDunningInvoicesAsync"/>.</summary>
    public async Task<CardUpdate> AttachAsync(Guid customerId, AttachPaymentMethod command, Actor actor, string reason, CancellationToken ct)
    {
        EnsureNoTransaction();
        var method = await customers.AttachPaymentMethodAsync(customerId, command, actor, reason, ct);
        return new CardUpdate(method, await ChargeOpenDunningInvoicesAsync(customerId, actor, ct));
    }

    /// <summary>
    /// As <see cref="AttachAsync"/>, for the customer on their pay page: the link must not be spent when the card is attached,
    /// checked under the customer's lock, so one link attaches one card however often it is sent.
    /// </summary>
    public async Task<CardUpdate> AttachThroughLinkAsync(PayLink link, AttachPaymentMethod command, CancellationToken ct)
    {
        EnsureNoTransaction();
        var actor = Actor.Customer(link.CustomerId);
        var method = await db.InTransactionAsync(async () =>
        {
            await db.LockCustomerAsync(link.CustomerId, ct);
            if (link.IsSpent(await CurrentMethodIdAsync(link.CustomerId, ct))) throw new PayLinkSpentException();
            return await customers.AttachPaymentMethodAsync(link.CustomerId, command, actor, "The customer replaced their card on the pay page.", ct);
        }, ct);
        return new CardUpdate(method, await ChargeOpenDunningInvoicesAsync(link.CustomerId, actor, ct));
    }

    /// <summary>The customer's default payment method now; null when they have none.</summary>
    public Task<Guid?> CurrentMethodIdAsync(Guid customerId, CancellationToken ct) =>
        db.PaymentMethods.AsNoTracking().Where(p => p.CustomerId == customerId && p.IsDefault && p.DetachedAt == null)
            .Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);

    /// <summary>
    /// A sandbox card whose token starts with the outcome it gets (<c>pm_ok_</c>, <c>pm_insufficient_funds_</c>, …): made unique,
    /// as every gateway token is, with a test card's details. Invalid input throws a validation error naming the token; outside
    /// sandbox mode a sandbox card is refused.
    /// </summary>
    public AttachPaymentMethod SandboxCard(string? tokenPrefix)
    {
        if (gateway.Name != SandboxGateway.GatewayName)
            throw new DomainRuleException($"Sandbox cards are for sandbox mode; charges now go through {gateway.Name}, where cards are saved by its own page.");
        var prefix = tokenPrefix?.Trim() ?? string.Empty;
        if (!SandboxGateway.IsCardTokenPrefix(prefix))
            throw new ValidationException([new ValidationFailure("token", SandboxGateway.CardTokenHint)]);
        return new AttachPaymentMethod(SandboxGateway.GatewayName, $"{prefix.TrimEnd('_')}_{SandboxGateway.NewTokenTail()}", "visa", "4242", 12,
            clock.GetUtcNow().Year + 3);
    }

    /// <summary>
    /// Charges the customer's open dunning invoices to their default card now, unless support has paused dunning for them.
    /// A case the retry runner holds is left to its retry.
    /// </summary>
    public async Task<IReadOnlyList<ChargeResult>> ChargeOpenDunningInvoicesAsync(Guid customerId, Actor actor, CancellationToken ct)
    {
        EnsureNoTransaction();
        // The charges read what the card's attachment committed, not what this unit of work still tracks from before.
        db.ChangeTracker.Clear();
        var invoiceIds = await db.DunningCases.AsNoTracking()
            .Where(c => c.CustomerId == customerId && c.Status == DunningStatus.RetryPending)
            .Where(c => !db.Customers.Any(u => u.Id == customerId && u.DunningPaused))
            .OrderBy(c => c.OpenedAt)
            .Select(c => c.InvoiceId)
            .ToListAsync(ct);
        if (invoiceIds.Count == 0) return [];
        return await payments.ChargeManyAsync(invoiceIds, PaymentTrigger.NewPaymentMethod, actor, ct);
    }

    /// <summary>A charge saves its attempt before it calls the gateway, which a caller's transaction would hold back until too late.</summary>
    private void EnsureNoTransaction()
    {
        if (db.Database.CurrentTransaction is not null)
            throw new InvalidOperationException("A new card is charged after its attachment commits: attach it outside a transaction.");
    }
}

/// <summary>The pay link was used already: the customer's card is no longer the one it was made for.</summary>
public sealed class PayLinkSpentException() : Exception("This link was already used to replace the card; nothing was changed.");

/// <summary>The card attached and what charging the open dunning invoices to it did, one result per invoice.</summary>
public sealed record CardUpdate(PaymentMethodView Method, IReadOnlyList<ChargeResult> Charges);
