using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Infrastructure;

/// <param name="UpgradePriceId">A dearer monthly price of the same currency, to change plan to, on a plan of its own called <paramref name="UpgradePlanName"/>.</param>
public sealed record FailedInvoice(Guid CustomerId, string Email, Guid SubscriptionId, Guid InvoiceId, Guid CaseId, Guid UpgradePriceId,
    string UpgradePlanName);

/// <summary>
/// A customer whose first invoice failed, made through the engine's own commands: subscribed without a trial (the invoice is
/// issued), charged as the auto-collection job charges it once its delay has passed (here at once) with a card that declines
/// (the subscription is past due and a dunning case opens),
/// then given a card that succeeds (<c>pm_ok_…</c>), so that a retry recovers it. Works on any service provider that holds
/// the engine: a test's <see cref="EngineServices"/> or the console host.
/// </summary>
public static class FailedInvoices
{
    public static async Task<FailedInvoice> CreateAsync(IServiceProvider services, string? email = null, decimal amount = 20m, string? name = null)
    {
        var actor = new Actor("test-setup", null);
        var ct = TestContext.Current.CancellationToken;
        var plan = new Plan($"p-{Guid.NewGuid():N}"[..20], $"Starter {amount}", "Test plan");
        var price = plan.AddPrice(new Money(amount, "USD"), BillingInterval.Month, 0);
        var upgrade = new Plan($"u-{Guid.NewGuid():N}"[..20], $"Growth {Guid.NewGuid():N}"[..15], "Test plan");
        var upgradePrice = upgrade.AddPrice(new Money(amount * 2, "USD"), BillingInterval.Month, 0);
        await InScopeAsync<BillingDbContext>(services, async db =>
        {
            db.Plans.AddRange(plan, upgrade);
            await db.SaveChangesAsync(ct);
        });

        email ??= $"failed.{Guid.NewGuid():N}@example.test";
        var customer = await InScopeAsync<CustomerCommands, CustomerView>(services, commands => commands.CreateAsync(
            new CreateCustomer(name ?? $"Failed Payment {email[..12]}", email, "USD", new AddressInput("1 Test Street", null, "London", "EC1A 1BB", "GB"), null),
            actor, "setup", ct));
        await AttachCardAsync(services, customer.Id, "pm_insufficient_funds_");
        var subscription = await InScopeAsync<SubscriptionCommands, SubscriptionChangeView>(services, commands => commands.CreateAsync(
            new CreateSubscription(customer.Id, price.Id, 1, 0), actor, "setup", ct));
        var invoiceId = subscription.Invoice!.Id!.Value;
        var charge = await InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(services,
            processor => processor.ChargeManyAsync([invoiceId], PaymentTrigger.AutoCollection, Actor.System, ct));
        if (charge.Single().Status != ChargeStatus.Failed) throw new InvalidOperationException($"The first charge should fail, got {charge.Single().Status}.");
        await AttachCardAsync(services, customer.Id, "pm_ok_");
        var caseId = await InScopeAsync<BillingDbContext, Guid>(services,
            db => db.DunningCases.Where(c => c.InvoiceId == invoiceId).Select(c => c.Id).SingleAsync(ct));
        return new FailedInvoice(customer.Id, email, subscription.Subscription.Id, invoiceId, caseId, upgradePrice.Id, upgrade.Name);
    }

    private static Task AttachCardAsync(IServiceProvider services, Guid customerId, string tokenPrefix) =>
        InScopeAsync<CustomerCommands, PaymentMethodView>(services, commands => commands.AttachPaymentMethodAsync(customerId,
            new AttachPaymentMethod("sandbox", tokenPrefix + Guid.NewGuid().ToString("N"), "visa", "4242", 12, DateTime.UtcNow.Year + 3),
            new Actor("test-setup", null), "setup", TestContext.Current.CancellationToken));

    private static async Task<TResult> InScopeAsync<TService, TResult>(IServiceProvider services, Func<TService, Task<TResult>> action) where TService : notnull
    {
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private static async Task InScopeAsync<TService>(IServiceProvider services, Func<TService, Task> action) where TService : notnull
    {
        await using var scope = services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }
}
