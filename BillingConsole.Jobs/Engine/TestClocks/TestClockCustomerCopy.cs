using BillingConsole.Domain.Common;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.TestClocks;

/// <summary>
/// Puts on a test clock a customer shaped like a real one: the price (hence plan and currency) and quantity of the real
/// customer's newest live subscription, with a sandbox card whose outcome the admin chooses. The copy goes through
/// <see cref="TestClockCommands.AddCustomerAsync"/>, as any test customer does; it takes neither the real customer's name
/// nor address, so a rehearsal never writes to a real person.
/// </summary>
public sealed class TestClockCustomerCopy(BillingDbContext db, TestClockCommands clocks)
{
    private const int MaxCopiedNameLength = 200;

    public async Task<Guid> CopyAsync(Guid clockId, Guid? realCustomerId, string? cardToken, Actor actor, CancellationToken ct)
    {
        if (realCustomerId is not { } sourceId) throw new DomainRuleException("Choose the real customer to copy.");
        var source = await db.Customers.AsNoTracking().Where(c => c.Id == sourceId).Select(c => new { c.Name, c.TestClockId })
            .SingleOrDefaultAsync(ct) ?? throw new DomainRuleException("There is no such customer.");
        if (source.TestClockId is not null) throw new DomainRuleException("That customer is on a test clock already: copy a real customer.");
        var subscription = await db.Subscriptions.AsNoTracking()
            .Where(s => s.CustomerId == sourceId && (s.Status == SubscriptionStatus.Trialing || s.Status == SubscriptionStatus.Active || s.Status == SubscriptionStatus.PastDue))
            .OrderByDescending(s => s.CreatedAt).Select(s => new { s.PriceId, s.Quantity }).FirstOrDefaultAsync(ct)
            ?? throw new DomainRuleException($"{source.Name} has no live subscription to copy.");
        var currency = await db.Prices.AsNoTracking().Where(p => p.Id == subscription.PriceId).Select(p => p.Currency).SingleAsync(ct);
        var name = $"Copy of {source.Name}";
        var copy = new AddTestCustomer(name[..Math.Min(name.Length, MaxCopiedNameLength)], $"copy-{Guid.NewGuid():N}"[..17] + "@example.com",
            currency, subscription.PriceId, cardToken?.Trim(), subscription.Quantity);
        return await clocks.AddCustomerAsync(clockId, copy, actor, ct);
    }
}
