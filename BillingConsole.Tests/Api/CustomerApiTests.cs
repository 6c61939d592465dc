using System.Net;
using System.Text.Json.Nodes;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

public sealed class CustomerApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task Creating_a_customer_stores_it_and_audits_the_API_key()
    {
        var created = await Api.CreateCustomerAsync("eur", externalRef: $"crm-{Guid.NewGuid():N}");

        Assert.Equal(Api.CustomerName, created.Name);
        Assert.Equal("EUR", created.Currency);
        Assert.Equal("GB", created.Address!.Country);
        var stored = await Api.WithDbAsync(db => db.Customers.SingleAsync(c => c.Id == created.Id));
        Assert.Equal(created.Email, stored.Email);
        Assert.Equal(created.ExternalRef, stored.ExternalRef);
        var audit = await Api.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.EntityId == created.Id.ToString()));
        Assert.Equal(("customer.created", $"api:{Api.Key.Name}", "api"), (audit.Action, audit.Actor, audit.ActorRole));
    }

    [Fact]
    public async Task Patching_a_customer_changes_only_the_fields_sent()
    {
        var customer = await Api.CreateCustomerAsync();

        var response = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{customer.Id}",
            new { email = "grace@example.com", address = new { line1 = "1 Harbour St", city = "Leeds", postalCode = "LS1 1AA", country = "gb" } });

        var updated = await Api.ReadAsync<CustomerView>(response, HttpStatusCode.OK);
        Assert.Equal(customer.Name, updated.Name);
        Assert.Equal("grace@example.com", updated.Email);
        Assert.Equal(new AddressView("1 Harbour St", null, "Leeds", "LS1 1AA", "GB"), updated.Address);
        Assert.Equal("customer.updated", await Api.WithDbAsync(db => db.AuditLog
            .Where(a => a.EntityId == customer.Id.ToString()).OrderByDescending(a => a.Id).Select(a => a.Action).FirstAsync()));
    }

    [Fact]
    public async Task A_customer_time_zone_is_set_on_create_changed_by_patch_and_cleared_back_to_the_billing_time_zone()
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body["timeZone"] = "Asia/Tokyo";
        var created = await Api.ReadAsync<CustomerView>(
            await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid()), HttpStatusCode.Created);
        Assert.Equal("Asia/Tokyo", created.TimeZone);

        var changed = await Api.ReadAsync<CustomerView>(
            await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { timeZone = "America/New_York" }), HttpStatusCode.OK);
        Assert.Equal("America/New_York", changed.TimeZone);

        var refused = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { timeZone = "Atlantis/Lost" });
        Assert.True((await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Errors?.ContainsKey("timeZone"));
        Assert.Equal("America/New_York", await Api.WithDbAsync(db => db.Customers.Where(c => c.Id == created.Id).Select(c => c.TimeZone).SingleAsync()));

        var cleared = await Api.ReadAsync<CustomerView>(
            await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { timeZone = "" }), HttpStatusCode.OK);
        Assert.Null(cleared.TimeZone);
    }

    [Fact]
    public async Task A_customer_tax_number_is_kept_in_capitals_changed_by_patch_refused_when_malformed_and_cleared()
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body["taxId"] = " gb 123 4567 89 ";
        var created = await Api.ReadAsync<CustomerView>(
            await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid()), HttpStatusCode.Created);
        Assert.Equal("GB 123 4567 89", created.TaxId);

        var changed = await Api.ReadAsync<CustomerView>(
            await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { taxId = "GB987654321" }), HttpStatusCode.OK);
        Assert.Equal("GB987654321", changed.TaxId);

        var refused = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { taxId = "GB 98;drop" });
        Assert.True((await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Errors?.ContainsKey("taxId"));
        Assert.Equal("GB987654321", await Api.WithDbAsync(db => db.Customers.Where(c => c.Id == created.Id).Select(c => c.TaxId).SingleAsync()));

        var cleared = await Api.ReadAsync<CustomerView>(
            await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{created.Id}", new { taxId = "" }), HttpStatusCode.OK);
        Assert.Null(cleared.TaxId);
    }

    [Fact]
    public async Task A_customer_is_charged_automatically_unless_sent_invoices_with_days_until_due()
    {
        var charged = await Api.CreateCustomerAsync();
        var sent = await Api.ReadAsync<CustomerView>(await Api.PostAsync("/api/v1/customers", new
        {
            name = Api.CustomerName, email = $"ada+{Guid.NewGuid():N}@example.com", currency = "USD", collectionMethod = "send_invoice", daysUntilDue = 14,
        }), HttpStatusCode.Created);

        Assert.Equal(("charge_automatically", (int?)null), (charged.CollectionMethod, charged.DaysUntilDue));
        Assert.Equal(("send_invoice", (int?)14), (sent.CollectionMethod, sent.DaysUntilDue));
        var stored = await Api.WithDbAsync(db => db.Customers.SingleAsync(c => c.Id == sent.Id));
        Assert.Equal((BillingConsole.Domain.Customers.CollectionMethod.SendInvoice, (int?)14), (stored.CollectionMethod, stored.DaysUntilDue));

        var back = await Api.ReadAsync<CustomerView>(await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{sent.Id}",
            new { collectionMethod = "charge_automatically" }), HttpStatusCode.OK);
        Assert.Equal(("charge_automatically", (int?)null), (back.CollectionMethod, back.DaysUntilDue));
    }

    [Theory]
    [InlineData("{\"collectionMethod\":\"send_invoice\"}", "daysUntilDue")]
    [InlineData("{\"collectionMethod\":\"send_invoice\",\"daysUntilDue\":366}", "daysUntilDue")]
    [InlineData("{\"daysUntilDue\":30}", "daysUntilDue")]
    [InlineData("{\"collectionMethod\":\"charge_automatically\",\"daysUntilDue\":30}", "daysUntilDue")]
    [InlineData("{\"collectionMethod\":\"invoice_me\"}", "collectionMethod")]
    public async Task A_collection_method_without_its_terms_or_with_terms_it_does_not_take_is_refused_and_changes_nothing(string patch, string field)
    {
        var customer = await Api.CreateCustomerAsync();

        var response = await Api.SendRawAsync(HttpMethod.Patch, $"/api/v1/customers/{customer.Id}",
            new StringContent(patch, System.Text.Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(field, problem.Errors!.Keys);
        var stored = await Api.WithDbAsync(db => db.Customers.SingleAsync(c => c.Id == customer.Id));
        Assert.Equal((BillingConsole.Domain.Customers.CollectionMethod.ChargeAutomatically, (int?)null), (stored.CollectionMethod, stored.DaysUntilDue));
    }

    [Fact]
    public async Task The_currency_can_change_only_before_anything_was_billed()
    {
        var customer = await Api.CreateCustomerAsync();
        var changed = await Api.ReadAsync<CustomerView>(
            await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{customer.Id}", new { currency = "GBP" }), HttpStatusCode.OK);
        Assert.Equal("GBP", changed.Currency);

        var price = await Api.CreatePriceAsync("Basic", 30m, "GBP");
        await Api.CreateSubscriptionAsync(customer.Id, price);
        var refused = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{customer.Id}", new { currency = "USD" });

        var problem = await Problem.ReadAsync(refused, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("currency cannot change", problem.Detail);
    }

    [Fact]
    public async Task A_payment_method_is_attached_by_token_and_becomes_the_default()
    {
        var customer = await Api.CreateCustomerAsync();
        await AttachAsync(customer.Id, "tok_first");

        var second = await AttachAsync(customer.Id, "tok_second");

        Assert.Equal(("visa", "4242", true), (second.Brand, second.Last4, second.IsDefault));
        var methods = await Api.WithDbAsync(db => db.PaymentMethods.Where(p => p.CustomerId == customer.Id).ToListAsync());
        Assert.Equal(2, methods.Count);
        Assert.Equal(second.Id, Assert.Single(methods, m => m.IsDefault).Id);
    }

    [Fact]
    public async Task Invoices_are_listed_newest_first_in_pages()
    {
        var customer = await Api.CreateCustomerAsync();
        var basic = await Api.CreatePriceAsync("Basic", 30m);
        var pro = await Api.CreatePriceAsync("Pro", 90m);
        var subscription = await Api.CreateSubscriptionAsync(customer.Id, basic);
        var change = await Api.ReadAsync<PlanChangeView>(await Api.PostAsync($"/api/v1/subscriptions/{subscription.Subscription.Id}/change-plan",
            new { priceId = pro, behavior = "immediate" }), HttpStatusCode.OK);

        var first = await Api.ReadAsync<InvoicePage>(await Api.Http.GetAsync($"/api/v1/customers/{customer.Id}/invoices?limit=1", TestContext.Current.CancellationToken), HttpStatusCode.OK);
        var second = await Api.ReadAsync<InvoicePage>(
            await Api.Http.GetAsync($"/api/v1/customers/{customer.Id}/invoices?limit=1&startingAfter={first.NextCursor}", TestContext.Current.CancellationToken), HttpStatusCode.OK);

        Assert.True(first.HasMore);
        Assert.Equal("plan_change", Assert.Single(first.Data).Kind);
        // The page reads lines apart from their invoice: the same lines, in the same order, as the change issued them.
        Assert.True(change.Invoice!.Lines.Count > 1);
        Assert.Equal(change.Invoice.Lines, first.Data[0].Lines);
        Assert.False(second.HasMore);
        Assert.Null(second.NextCursor);
        Assert.Equal("subscription_cycle", Assert.Single(second.Data).Kind);
        Assert.Equal(subscription.Invoice!.Id, second.Data[0].Id);
    }

    public static TheoryData<string, string, object?> InvalidCustomers => new()
    {
        { "name", "name", null },
        { "name", "name", "   " },
        { "name", "name", new string('n', 201) },
        { "email", "email", null },
        { "email", "email", "ada.example.com" },
        { "email", "email", "ada@example" },
        { "currency", "currency", null },
        { "currency", "currency", "XYZ" },
        { "externalRef", "externalRef", new string('r', 201) },
        { "timeZone", "timeZone", "Mars/Olympus_Mons" },
        { "taxId", "taxId", "DE<123456789>" },
        { "taxId", "taxId", new string('1', 33) },
        { "address", "address.country", new { line1 = "1 Row", city = "London", postalCode = "E1", country = "GBR" } },
        { "address", "address.line1", new { city = "London", postalCode = "E1", country = "GB" } },
        { "address", "address.postalCode", new { line1 = "1 Row", city = "London", country = "GB" } },
    };

    [Theory]
    [MemberData(nameof(InvalidCustomers))]
    public async Task An_invalid_customer_is_refused_naming_the_field_and_nothing_is_written(string property, string field, object? value)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body[property] = System.Text.Json.JsonSerializer.SerializeToNode(value, ApiTestClient.Json);
        var before = await Api.CountRowsAsync();
        var key = Guid.NewGuid();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), key);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"errors should name '{field}': {string.Join(", ", problem.Errors?.Keys ?? Enumerable.Empty<string>())}");
        Assert.Equal(before, await Api.CountRowsAsync());
        Assert.False(await Api.IdempotencyKeyStoredAsync(key));
    }

    public static TheoryData<string, object, string> InvalidPaymentMethods => new()
    {
        { "token missing", new { brand = "visa", last4 = "4242", expMonth = 12, expYear = 2099 }, "token" },
        { "last4 not digits", new { token = "tok_x", brand = "visa", last4 = "42a2", expMonth = 12, expYear = 2099 }, "last4" },
        { "month 13", new { token = "tok_x", brand = "visa", last4 = "4242", expMonth = 13, expYear = 2099 }, "expMonth" },
        { "expired", new { token = "tok_x", brand = "visa", last4 = "4242", expMonth = 1, expYear = 2020 }, "expYear" },
        { "year as text", new { token = "tok_x", brand = "visa", last4 = "4242", expMonth = 1, expYear = "soon" }, "expYear" },
    };

    [Theory]
    [MemberData(nameof(InvalidPaymentMethods))]
    public async Task An_invalid_payment_method_is_refused_naming_the_field(string because, object body, string field)
    {
        var customer = await Api.CreateCustomerAsync();
        var before = await Api.CountRowsAsync(customer.Id);

        var response = await Api.PostAsync($"/api/v1/customers/{customer.Id}/payment-methods", body);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"{because}: errors should name '{field}'");
        Assert.Equal(before, await Api.CountRowsAsync(customer.Id));
    }

    public static TheoryData<object, string> CardNumbersAnywhere => new()
    {
        { new { token = "4242424242424242", brand = "visa", last4 = "4242", expMonth = 12, expYear = 2099 }, "token" },
        { new { token = "tok_x", brand = "4000 0566 5566 5556", last4 = "5556", expMonth = 12, expYear = 2099 }, "brand" },
        { new { token = "tok_x", brand = "visa", last4 = 4111111111111111, expMonth = 12, expYear = 2099 }, "last4" },
        { new { token = "tok_x", brand = "visa", last4 = "1111", expMonth = 12, expYear = 2099, card = new { number = "5555-5555-5555-4444" } }, "card.number" },
    };

    [Theory]
    [MemberData(nameof(CardNumbersAnywhere))]
    public async Task Anything_that_looks_like_a_card_number_is_refused_and_not_stored(object body, string field)
    {
        var customer = await Api.CreateCustomerAsync();
        var before = await Api.CountRowsAsync(customer.Id);

        var response = await Api.PostAsync($"/api/v1/customers/{customer.Id}/payment-methods", body);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("card number", Assert.Single(problem.Errors![field]));
        Assert.Equal(before, await Api.CountRowsAsync(customer.Id));
    }

    [Fact]
    public async Task Unknown_customers_are_404()
    {
        var missing = Guid.NewGuid();

        var patch = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{missing}", new { name = "Nobody" });
        var attach = await Api.PostAsync($"/api/v1/customers/{missing}/payment-methods",
            new { token = "tok_x", brand = "visa", last4 = "4242", expMonth = 12, expYear = 2099 });
        var invoices = await Api.Http.GetAsync($"/api/v1/customers/{missing}/invoices", TestContext.Current.CancellationToken);

        foreach (var response in new[] { patch, attach, invoices })
            Assert.Contains(missing.ToString(), (await Problem.ReadAsync(response, HttpStatusCode.NotFound)).Detail);
    }

    [Fact]
    public async Task A_second_customer_with_the_same_external_reference_is_a_conflict()
    {
        var reference = $"crm-{Guid.NewGuid():N}";
        await Api.CreateCustomerAsync(externalRef: reference);

        var response = await Api.PostAsync("/api/v1/customers", Api.NewCustomer(externalRef: reference));

        Assert.Contains(reference, (await Problem.ReadAsync(response, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(1, await Api.WithDbAsync(db => db.Customers.CountAsync(c => c.ExternalRef == reference)));
    }

    private async Task<PaymentMethodView> AttachAsync(Guid customerId, string token) =>
        await Api.ReadAsync<PaymentMethodView>(await Api.PostAsync($"/api/v1/customers/{customerId}/payment-methods",
            new { token = $"{token}_{Guid.NewGuid():N}", brand = "visa", last4 = "4242", expMonth = 12, expYear = 2099 }), HttpStatusCode.Created);
}
