using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Persistence;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// Builds a test's own catalog, customers (each with a sandbox card chosen by token prefix) and subscriptions whose
/// periods ended before <see cref="Now"/>, through the domain constructors, saved with EF.
/// </summary>
public sealed class BillingTestData(Func<BillingDbContext> newContext, DateTimeOffset now)
{
    public BillingTestData(MigratedDatabase database, DateTimeOffset now) : this(database.NewContext, now) { }

    public DateTimeOffset Now { get; } = now;

    public async Task<(Plan Plan, Price Price)> PlanAsync(decimal amount = 20m, string currency = "USD", BillingInterval interval = BillingInterval.Month)
    {
        var plan = new Plan($"plan-{Guid.NewGuid():N}"[..20], $"Plan {amount}", "Test plan");
        var price = plan.AddPrice(new Money(amount, currency), interval, 0);
        await using var db = newContext();
        db.Plans.Add(plan);
        await db.SaveChangesAsync();
        return (plan, price);
    }

    /// <summary>A customer with a default card whose token starts with <paramref name="tokenPrefix"/> (null: no card).</summary>
    public async Task<Customer> CustomerAsync(string? tokenPrefix = "pm_ok_", decimal credit = 0m, string currency = "USD")
    {
        var customer = new Customer($"Customer {Guid.NewGuid():N}"[..20], $"{Guid.NewGuid():N}@example.test", currency,
            new CustomerAddress("1 Test Street", null, "London", "EC1A 1BB", "GB"), Now.AddYears(-1));
        if (tokenPrefix is not null) customer.AttachPaymentMethod("sandbox", tokenPrefix + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2030, Now.AddYears(-1));
        if (credit > 0) customer.AddCredit(new Money(credit, currency));
        await using var db = newContext();
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        return customer;
    }

    /// <summary>A monthly subscription whose current period ended <paramref name="endedAgo"/> before now (default one day).</summary>
    public async Task<Subscription> SubscriptionAsync(Customer customer, Price price, int quantity = 1, TimeSpan? endedAgo = null,
        bool trial = false, Action<Subscription>? adjust = null)
    {
        var periodEnd = Now - (endedAgo ?? TimeSpan.FromDays(1));
        var start = periodEnd.AddMonths(-1);
        // Anchored on the day the period ends (UTC, the tests' billing time zone), so its renewal is a whole period.
        var subscription = new Subscription(customer.Id, price.Id, quantity, start, periodEnd, trial ? periodEnd : null, periodEnd.Day);
        adjust?.Invoke(subscription);
        await using var db = newContext();
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync();
        return subscription;
    }

    /// <summary>Customers with one due subscription each, cards chosen round-robin from <paramref name="tokenPrefixes"/>.</summary>
    public async Task<IReadOnlyList<Subscription>> DueSubscriptionsAsync(Price price, int count, params string[] tokenPrefixes)
    {
        if (tokenPrefixes.Length == 0) tokenPrefixes = ["pm_ok_"];
        var customers = new List<Customer>();
        var subscriptions = new List<Subscription>();
        for (var i = 0; i < count; i++)
        {
            var customer = new Customer($"Bulk {i}", $"bulk{i}.{Guid.NewGuid():N}@example.test", price.Currency,
                new CustomerAddress("1 Test Street", null, "London", "EC1A 1BB", "GB"), Now.AddYears(-1));
            customer.AttachPaymentMethod("sandbox", tokenPrefixes[i % tokenPrefixes.Length] + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2030, Now.AddYears(-1));
            customers.Add(customer);
            var periodEnd = Now - TimeSpan.FromHours(1 + i % 48);
            subscriptions.Add(new Subscription(customer.Id, price.Id, 1 + i % 3, periodEnd.AddMonths(-1), periodEnd, null, periodEnd.Day));
        }
        await using var db = newContext();
        db.Customers.AddRange(customers);
        db.Subscriptions.AddRange(subscriptions);
        await db.SaveChangesAsync();
        return subscriptions;
    }
}
