using System.Net;
using System.Text;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Input written to break things, beyond the field rules the other API tests cover: numbers out of range for their type,
/// text PostgreSQL cannot store, nesting deep enough to exhaust a parser, and markup or SQL that must be stored as plain text.
/// </summary>
public sealed class HostileInputTests(ConsoleAppHost host) : ApiTestBase(host)
{
    public static TheoryData<string, string> HostileQuantities => new()
    {
        { "2147483648", "past the largest whole number" },
        { "1e309", "past the largest double" },
        { "-1", "negative" },
        { "1.5", "a fraction" },
        { "\"NaN\"", "NaN as text" },
        { "true", "a boolean" },
        { "[1]", "an array" },
    };

    [Theory]
    [MemberData(nameof(HostileQuantities))]
    public async Task A_quantity_out_of_range_for_its_type_is_400_naming_it_and_nothing_is_written(string quantity, string because)
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m);
        var before = await Api.CountRowsAsync(customer.Id);
        var body = $$"""{"customerId":"{{customer.Id}}","priceId":"{{price}}","quantity":{{quantity}}}""";

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/subscriptions", new StringContent(body, Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey("quantity"), $"{because}: {problem.Detail} {string.Join(", ", problem.Errors?.Keys ?? Enumerable.Empty<string>())}");
        Assert.Equal(before, await Api.CountRowsAsync(customer.Id));
    }

    public static TheoryData<string, string> UnstorableText => new()
    {
        { "name", "Ada\u0000Lovelace" },
        { "name", "Ada\u0007Lovelace" },
        { "email", "ada\u0000@example.com" },
        { "externalRef", "ref\u0000" },
    };

    [Theory]
    [MemberData(nameof(UnstorableText))]
    public async Task Control_characters_in_text_are_400_naming_the_field_and_nothing_is_written(string field, string value)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body[field] = value;
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"errors should name '{field}': {problem.Detail}");
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    [Fact]
    public async Task Nesting_deeper_than_the_parser_allows_is_400_and_nothing_is_written()
    {
        var deep = new string('[', 5_000) + new string(']', 5_000);
        var body = $$"""{"name":"Ada","email":"ada@example.com","currency":"USD","externalRef":{{deep}}}""";
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent(body, Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("The request body is not valid JSON", problem.Detail);
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    public const string Markup = "<script>window.__owned=1</script><img src=x onerror=\"window.__owned=2\">";
    public const string Sql = "Robert'); DROP TABLE customers;--";

    [Fact]
    public async Task Markup_and_SQL_in_text_are_stored_and_answered_exactly_as_sent()
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body["name"] = Markup;
        body["externalRef"] = Sql;

        var created = await Api.ReadAsync<CustomerView>(await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid()),
            HttpStatusCode.Created);

        Assert.Equal((Markup, Sql), (created.Name, created.ExternalRef));
        var stored = await Api.WithDbAsync(db => db.Customers.Where(c => c.Id == created.Id).Select(c => new { c.Name, c.ExternalRef }).SingleAsync());
        Assert.Equal((Markup, Sql), (stored.Name, stored.ExternalRef));
    }
}
