using BillingConsole.Domain.Tax;
using System.Net;
using System.Text.Json;
using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Api;

public sealed class SubscriptionApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task A_subscription_with_a_trial_starts_trialing_and_issues_nothing()
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m, trialDays: 14);

        var created = await Api.CreateSubscriptionAsync(customer.Id, price, quantity: 2, trialDays: null);

        Assert.Equal("trialing", created.Subscription.Status);
        Assert.Null(created.Invoice);
        Assert.Equal(created.Subscription.CurrentPeriodStart.AddDays(14), created.Subscription.TrialEnd);
        Assert.Equal(created.Subscription.TrialEnd, created.Subscription.CurrentPeriodEnd);
        Assert.Equal(0, await Api.WithDbAsync(db => db.Invoices.CountAsync(i => i.CustomerId == customer.Id)));
    }

    [Fact]
    public async Task A_subscription_without_a_trial_invoices_its_first_period_in_advance()
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m, trialDays: 14);

        var created = await Api.CreateSubscriptionAsync(customer.Id, price, quantity: 3, trialDays: 0);

        Assert.Equal("active", created.Subscription.Status);
        var invoice = created.Invoice!;
        Assert.Equal(("open", "subscription_cycle", 90m, 90m), (invoice.Status, invoice.Kind, invoice.Total, invoice.AmountDue));
        var line = Assert.Single(invoice.Lines);
        Assert.Equal((3, 30m, created.Subscription.CurrentPeriodStart, created.Subscription.CurrentPeriodEnd),
            (line.Quantity, line.UnitAmount, line.PeriodStart, line.PeriodEnd));
        Assert.True(await Api.WithDbAsync(db => db.LedgerEntries.AnyAsync(e => e.InvoiceId == invoice.Id)));
    }

    [Fact]
    public async Task The_change_plan_preview_is_exactly_what_the_immediate_change_invoices()
    {
        var (subscription, _, pro) = await ActiveBasicSubscriptionAsync();

        var preview = await Api.ReadAsync<PlanChangeView>(
            await Api.Http.GetAsync($"/api/v1/subscriptions/{subscription.Id}/change-plan/preview?priceId={pro}&quantity=2", TestContext.Current.CancellationToken), HttpStatusCode.OK);
        var change = await Api.ReadAsync<PlanChangeView>(await Api.PostAsync($"/api/v1/subscriptions/{subscription.Id}/change-plan",
            new { priceId = pro, quantity = 2, prorationDate = preview.Quote.QuotedAt }), HttpStatusCode.OK);

        Assert.Equal("immediate", preview.Quote.Behavior);
        Assert.Equal("preview", preview.Invoice!.Status);
        Assert.Equal(["proration_credit", "proration_charge"], preview.Invoice.Lines.Select(l => l.Kind));
        var invoice = change.Invoice!;
        Assert.Equal(("open", "plan_change"), (invoice.Status, invoice.Kind));
        Assert.Equal(preview.Invoice.Lines, invoice.Lines);
        Assert.Equal((preview.Invoice.Subtotal, preview.Invoice.Tax, preview.Invoice.Total, preview.Invoice.AmountDue),
            (invoice.Subtotal, invoice.Tax, invoice.Total, invoice.AmountDue));
        Assert.Equal((pro, 2), (change.Subscription.PriceId, change.Subscription.Quantity));
        Assert.Equal(subscription.PriceId, preview.Subscription.PriceId);
    }

    [Fact]
    public async Task A_downgrade_waits_for_the_period_end_by_default_and_the_upcoming_invoice_shows_it()
    {
        var customer = await Api.CreateCustomerAsync();
        var basic = await Api.CreatePriceAsync("Basic", 30m);
        var pro = await Api.CreatePriceAsync("Pro", 90m);
        var subscription = (await Api.CreateSubscriptionAsync(customer.Id, pro)).Subscription;

        var change = await Api.ReadAsync<PlanChangeView>(
            await Api.PostAsync($"/api/v1/subscriptions/{subscription.Id}/change-plan", new { priceId = basic }), HttpStatusCode.OK);
        var upcoming = await Api.ReadAsync<InvoiceView>(await Api.Http.GetAsync($"/api/v1/subscriptions/{subscription.Id}/upcoming-invoice", TestContext.Current.CancellationToken),
            HttpStatusCode.OK);

        Assert.Equal("at_period_end", change.Quote.Behavior);
        Assert.Null(change.Invoice);
        Assert.Equal((pro, basic), (change.Subscription.PriceId, change.Subscription.PendingPriceId));
        Assert.Equal((basic, 30m), (Assert.Single(upcoming.Lines).PriceId, upcoming.Total));
    }

    [Fact]
    public async Task The_upcoming_invoice_is_what_the_generator_gives_the_billing_run()
    {
        var (subscription, _, _) = await ActiveBasicSubscriptionAsync(quantity: 4);

        var response = await Api.Http.GetAsync($"/api/v1/subscriptions/{subscription.Id}/upcoming-invoice", TestContext.Current.CancellationToken);
        var upcoming = await Api.ReadAsync<InvoiceView>(response, HttpStatusCode.OK);

        using var scope = Host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var stored = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, TestContext.Current.CancellationToken);
        var price = await db.Prices.AsNoTracking().SingleAsync(p => p.Id == stored.PriceId, TestContext.Current.CancellationToken);
        var plan = await db.Plans.AsNoTracking().SingleAsync(p => p.Id == price.PlanId, TestContext.Current.CancellationToken);
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == stored.CustomerId, TestContext.Current.CancellationToken);
        var snapshot = BillableSubscription.From(stored, BillablePrice.From(plan, price), null);
        var taxRate = scope.ServiceProvider.GetRequiredService<IOptionsMonitor<BillingOptions>>().CurrentValue.TaxRate;
        var run = scope.ServiceProvider.GetRequiredService<InvoiceGenerator>()
            .Generate(snapshot, [], customer.CreditBalance, InvoiceTax.Flat(taxRate), stored.CurrentPeriodEnd)!;

        Assert.Equal(JsonSerializer.Serialize(InvoiceView.Preview(run)), JsonSerializer.Serialize(upcoming));
        Assert.Equal((stored.CurrentPeriodEnd, 120m), (upcoming.PeriodStart, upcoming.Total));
    }

    [Fact]
    public async Task Proration_carried_to_the_next_invoice_changes_the_plan_now_and_shows_on_the_upcoming_invoice()
    {
        var (subscription, _, pro) = await ActiveBasicSubscriptionAsync();
        var path = $"/api/v1/subscriptions/{subscription.Id}";

        var change = await Api.ReadAsync<PlanChangeView>(await Api.PostAsync($"{path}/change-plan", new { priceId = pro, behavior = "next_invoice" }),
            HttpStatusCode.OK);
        var upcoming = await Api.ReadAsync<InvoiceView>(await Api.Http.GetAsync($"{path}/upcoming-invoice", TestContext.Current.CancellationToken),
            HttpStatusCode.OK);

        Assert.Null(change.Invoice);
        Assert.Equal(pro, change.Subscription.PriceId);
        Assert.Equal(2, await Api.WithDbAsync(db => db.PendingInvoiceLines.CountAsync(l => l.SubscriptionId == subscription.Id && l.InvoiceId == null)));
        Assert.Equal(["recurring", "proration_credit", "proration_charge"], upcoming.Lines.Select(l => l.Kind));
        Assert.Equal(change.Quote.Net + upcoming.Lines[0].Amount, upcoming.Subtotal);
    }

    [Fact]
    public async Task Cancel_at_period_end_then_now()
    {
        var (subscription, _, _) = await ActiveBasicSubscriptionAsync();
        var path = $"/api/v1/subscriptions/{subscription.Id}";

        var scheduled = await Api.ReadAsync<SubscriptionView>(await Api.PostAsync($"{path}/cancel"), HttpStatusCode.OK);
        Assert.True(scheduled.CancelAtPeriodEnd);
        Assert.Equal("active", scheduled.Status);
        await Problem.ReadAsync(await Api.Http.GetAsync($"{path}/upcoming-invoice", TestContext.Current.CancellationToken), HttpStatusCode.NotFound);

        var canceled = await Api.ReadAsync<SubscriptionView>(await Api.PostAsync($"{path}/cancel", new { when = "now" }), HttpStatusCode.OK);
        Assert.Equal("canceled", canceled.Status);
        Assert.NotNull(canceled.CanceledAt);

        var again = await Api.PostAsync($"{path}/cancel", new { when = "now" });
        Assert.Contains("not allowed", (await Problem.ReadAsync(again, HttpStatusCode.Conflict)).Detail);
    }

    [Fact]
    public async Task Pause_and_resume_within_the_period_keep_the_period()
    {
        var (subscription, _, _) = await ActiveBasicSubscriptionAsync();
        var path = $"/api/v1/subscriptions/{subscription.Id}";

        var paused = await Api.ReadAsync<SubscriptionView>(await Api.PostAsync($"{path}/pause"), HttpStatusCode.OK);
        await Problem.ReadAsync(await Api.PostAsync($"{path}/pause"), HttpStatusCode.Conflict);
        await Problem.ReadAsync(await Api.Http.GetAsync($"{path}/upcoming-invoice", TestContext.Current.CancellationToken), HttpStatusCode.NotFound);
        var resumed = await Api.ReadAsync<SubscriptionChangeView>(await Api.PostAsync($"{path}/resume"), HttpStatusCode.OK);

        Assert.Equal("paused", paused.Status);
        Assert.NotNull(paused.PausedAt);
        Assert.Equal("active", resumed.Subscription.Status);
        Assert.Null(resumed.Invoice);
        Assert.Equal((subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd),
            (resumed.Subscription.CurrentPeriodStart, resumed.Subscription.CurrentPeriodEnd));
    }

    [Fact]
    public async Task Resuming_after_the_period_ended_starts_a_new_period_and_invoices_it()
    {
        var (subscription, _, _) = await ActiveBasicSubscriptionAsync();
        await Api.PostAsync($"/api/v1/subscriptions/{subscription.Id}/pause");
        // The pause outlasted the period.
        await Api.WithDbAsync(db => db.Database.ExecuteSqlAsync(
            $"update subscriptions set current_period_start = now() - interval '40 days', current_period_end = now() - interval '9 days' where id = {subscription.Id}"));

        var resumed = await Api.ReadAsync<SubscriptionChangeView>(await Api.PostAsync($"/api/v1/subscriptions/{subscription.Id}/resume"),
            HttpStatusCode.OK);

        Assert.Equal("active", resumed.Subscription.Status);
        Assert.True(resumed.Subscription.CurrentPeriodStart > DateTimeOffset.UtcNow.AddMinutes(-5));
        var invoice = resumed.Invoice!;
        Assert.Equal((resumed.Subscription.CurrentPeriodStart, resumed.Subscription.CurrentPeriodEnd, 30m),
            (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
    }

    public static TheoryData<string, string, string> InvalidSubscriptions => new()
    {
        { """{"priceId":"00000000-0000-0000-0000-000000000001","quantity":1}""", "customerId", "missing customer" },
        { """{"customerId":"00000000-0000-0000-0000-000000000001","quantity":1}""", "priceId", "missing price" },
        { """{"customerId":"00000000-0000-0000-0000-000000000001","priceId":"00000000-0000-0000-0000-000000000001","quantity":0}""", "quantity", "zero" },
        { """{"customerId":"00000000-0000-0000-0000-000000000001","priceId":"00000000-0000-0000-0000-000000000001","quantity":10001}""", "quantity", "too many" },
        { """{"customerId":"00000000-0000-0000-0000-000000000001","priceId":"00000000-0000-0000-0000-000000000001","quantity":"two"}""", "quantity", "text" },
        { """{"customerId":"00000000-0000-0000-0000-000000000001","priceId":"00000000-0000-0000-0000-000000000001","quantity":1,"trialDays":-1}""", "trialDays", "negative trial" },
        { """{"customerId":"not-a-uuid","priceId":"00000000-0000-0000-0000-000000000001","quantity":1}""", "customerId", "not a uuid" },
    };

    [Theory]
    [MemberData(nameof(InvalidSubscriptions))]
    public async Task An_invalid_subscription_is_refused_naming_the_field(string body, string field, string because)
    {
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/subscriptions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"{because}: errors should name '{field}': {string.Join(", ", problem.Errors?.Keys ?? Enumerable.Empty<string>())}");
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    public static TheoryData<string, string> InvalidPlanChanges => new()
    {
        { """{"quantity":1}""", "priceId" },
        { """{"priceId":"PRO","quantity":0}""", "quantity" },
        { """{"priceId":"PRO","behavior":"sometimes"}""", "behavior" },
        { """{"priceId":"PRO","prorationDate":"2999-01-01T00:00:00Z"}""", "prorationDate" },
        { """{"priceId":"PRO","prorationDate":"2001-01-01T00:00:00Z"}""", "prorationDate" },
        { """{"priceId":"PRO","prorationDate":"the first of May"}""", "prorationDate" },
    };

    [Theory]
    [MemberData(nameof(InvalidPlanChanges))]
    public async Task An_invalid_plan_change_is_refused_naming_the_field_and_nothing_changes(string body, string field)
    {
        var (subscription, _, pro) = await ActiveBasicSubscriptionAsync();
        var before = await Api.CountRowsAsync(subscription.CustomerId);

        var response = await Api.SendRawAsync(HttpMethod.Post, $"/api/v1/subscriptions/{subscription.Id}/change-plan",
            new StringContent(body.Replace("PRO", pro.ToString()), System.Text.Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"errors should name '{field}': {string.Join(", ", problem.Errors?.Keys ?? Enumerable.Empty<string>())}");
        Assert.Equal(before, await Api.CountRowsAsync(subscription.CustomerId));
        Assert.Equal(subscription.PriceId, await Api.WithDbAsync(db => db.Subscriptions.Where(s => s.Id == subscription.Id).Select(s => s.PriceId).SingleAsync()));
    }

    [Fact]
    public async Task A_preview_with_a_malformed_query_names_the_parameter()
    {
        var (subscription, _, _) = await ActiveBasicSubscriptionAsync();

        var response = await Api.Http.GetAsync($"/api/v1/subscriptions/{subscription.Id}/change-plan/preview?priceId=abc", TestContext.Current.CancellationToken);

        Assert.True((await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Errors!.ContainsKey("priceId"));
    }

    [Fact]
    public async Task Unknown_subscriptions_customers_and_prices_are_404_and_nothing_is_written()
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m);
        var missing = Guid.NewGuid();
        var before = await Api.CountRowsAsync(customer.Id);

        var responses = new[]
        {
            await Api.PostAsync("/api/v1/subscriptions", new { customerId = missing, priceId = price, quantity = 1 }),
            await Api.PostAsync("/api/v1/subscriptions", new { customerId = customer.Id, priceId = missing, quantity = 1 }),
            await Api.PostAsync($"/api/v1/subscriptions/{missing}/change-plan", new { priceId = price }),
            await Api.PostAsync($"/api/v1/subscriptions/{missing}/cancel"),
            await Api.PostAsync($"/api/v1/subscriptions/{missing}/pause"),
            await Api.PostAsync($"/api/v1/subscriptions/{missing}/resume"),
            await Api.Http.GetAsync($"/api/v1/subscriptions/{missing}/upcoming-invoice", TestContext.Current.CancellationToken),
            await Api.Http.GetAsync($"/api/v1/subscriptions/{missing}/change-plan/preview?priceId={price}", TestContext.Current.CancellationToken),
        };

        foreach (var response in responses)
            Assert.Contains(missing.ToString(), (await Problem.ReadAsync(response, HttpStatusCode.NotFound)).Detail);
        Assert.Equal(before, await Api.CountRowsAsync(customer.Id));
    }

    [Fact]
    public async Task Business_rules_are_422_with_the_sentence()
    {
        var customer = await Api.CreateCustomerAsync("EUR");
        var dollars = await Api.CreatePriceAsync("Basic", 30m, "USD");
        var retired = await Api.CreatePriceAsync("Legacy", 10m, "EUR", retired: true);

        var wrongCurrency = await Api.PostAsync("/api/v1/subscriptions", new { customerId = customer.Id, priceId = dollars, quantity = 1 });
        var retiredPrice = await Api.PostAsync("/api/v1/subscriptions", new { customerId = customer.Id, priceId = retired, quantity = 1 });

        Assert.Contains("billed in EUR", (await Problem.ReadAsync(wrongCurrency, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("archived", (await Problem.ReadAsync(retiredPrice, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(0, await Api.WithDbAsync(db => db.Subscriptions.CountAsync(s => s.CustomerId == customer.Id)));
    }

    private async Task<(SubscriptionView Subscription, Guid Basic, Guid Pro)> ActiveBasicSubscriptionAsync(int quantity = 1)
    {
        var customer = await Api.CreateCustomerAsync();
        var basic = await Api.CreatePriceAsync("Basic", 30m);
        var pro = await Api.CreatePriceAsync("Pro", 90m);
        var created = await Api.CreateSubscriptionAsync(customer.Id, basic, quantity);
        return (created.Subscription, basic, pro);
    }
}
